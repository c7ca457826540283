/* dfuflash-example: list DFU devices, or flash a firmware file with a progress bar.
 *
 *   dfuflash-example list [--sim]
 *   dfuflash-example flash [--sim MODEL] [--address ADDR] [--leave] FILE
 *
 * FILE is any format dfuflash reads (DfuSe, Intel HEX, S-record, ELF, or a raw binary with
 * --address). Without --sim it opens the one DFU device on the bus. */
#include <dfuflash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *phase_name(int32_t phase) {
    switch (phase) {
    case DFUFLASH_PHASE_ERASE: return "erase";
    case DFUFLASH_PHASE_WRITE: return "write";
    case DFUFLASH_PHASE_VERIFY: return "verify";
    case DFUFLASH_PHASE_READ: return "read";
    case DFUFLASH_PHASE_COMPARE: return "compare";
    case DFUFLASH_PHASE_BOOT: return "boot";
    default: return "leave";
    }
}

static int32_t on_progress(void *user, const dfuflash_progress *p) {
    (void)user;
    static int32_t last_phase = -1;
    static int last_filled = -1;
    int width = 40;
    int filled = p->total ? (int)(p->done * (uint64_t)width / p->total) : width;
    /* Redraw when the bar changes, not for every block. */
    if (p->phase == last_phase && filled == last_filled && p->done != p->total && p->phase != DFUFLASH_PHASE_ERASE)
        return DFUFLASH_CONTINUE;
    last_phase = p->phase;
    last_filled = filled;
    fprintf(stderr, "\r%7s [", phase_name(p->phase));
    for (int i = 0; i < width; i++) fputc(i < filled ? '=' : ' ', stderr);
    if (p->phase == DFUFLASH_PHASE_ERASE)
        fprintf(stderr, "] %llu/%llu sectors", (unsigned long long)p->done, (unsigned long long)p->total);
    else
        fprintf(stderr, "] %llu/%llu bytes", (unsigned long long)p->done, (unsigned long long)p->total);
    if (p->done == p->total) fputc('\n', stderr);
    return DFUFLASH_CONTINUE;
}

static void on_log(void *user, int32_t level, const char *message) {
    (void)user;
    if (level >= DFUFLASH_LOG_WARN) fprintf(stderr, "\n%s: %s\n", level == DFUFLASH_LOG_WARN ? "warning" : "error", message);
}

static int fail(const char *what, int32_t rc) {
    fprintf(stderr, "dfuflash-example: %s: %s (%s)\n", what, dfuflash_status_str(rc), dfuflash_last_error());
    return 1;
}

static int list(int simulated) {
    dfuflash_device_list *l = NULL;
    int32_t rc = dfuflash_device_list_new(simulated ? DFUFLASH_LIST_SIMULATED : 0, &l);
    if (rc != DFUFLASH_OK) return fail("list", rc);
    size_t n = dfuflash_device_list_count(l);
    for (size_t i = 0; i < n; i++) {
        dfuflash_device_desc d = {.size = sizeof d};
        if (dfuflash_device_list_get(l, i, &d) != DFUFLASH_OK) continue;
        printf("%04x:%04x  %-22s  %s  serial %s\n", d.vendor_id, d.product_id, d.path ? d.path : "-",
               d.product ? d.product : "-", d.serial ? d.serial : "-");
        for (size_t a = 0; a < d.alt_count; a++) {
            dfuflash_alt_desc alt = {.size = sizeof alt};
            if (dfuflash_device_list_alt(l, i, a, &alt) == DFUFLASH_OK) printf("    alt %u: %s\n", alt.alt, alt.name);
        }
    }
    if (n == 0) printf("no DFU devices found\n");
    dfuflash_device_list_free(l);
    return 0;
}

static int flash(const char *model, const char *file, int has_address, uint32_t address, int leave) {
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    dfuflash_options *opts = NULL;
    int32_t rc = model ? dfuflash_open_simulated(model, NULL, -1, &dev) : dfuflash_open(0, 0, NULL, NULL, -1, NULL, 0, &dev);
    if (rc != DFUFLASH_OK) return fail("open", rc);
    rc = dfuflash_image_load(file, address, has_address, 0, &img);
    if (rc != DFUFLASH_OK) {
        dfuflash_device_close(dev);
        return fail(file, rc);
    }
    dfuflash_options_new(&opts);
    dfuflash_options_set_progress_callback(opts, on_progress);
    dfuflash_options_set_log_callback(opts, on_log);
    dfuflash_options_set_flag(opts, DFUFLASH_OPT_LEAVE, leave);
    rc = dfuflash_download(dev, img, opts);
    int status = 0;
    if (rc == DFUFLASH_OK) {
        dfuflash_report r = {.size = sizeof r};
        dfuflash_device_report(dev, &r);
        printf("flashed: %zu sector(s) erased, %llu bytes written, %llu bytes verified, %llu requests, %.2f s\n",
               r.sectors_erased_count, (unsigned long long)r.bytes_written, (unsigned long long)r.bytes_verified,
               (unsigned long long)r.requests, r.elapsed_seconds);
        if (r.workaround_sectors_count) {
            printf("STM32H7 Rev V erase recovery used for:");
            for (size_t i = 0; i < r.workaround_sectors_count; i++) printf(" 0x%08x", (unsigned)r.workaround_sectors[i]);
            printf("\n");
        }
        /* The record a factory keeps: the image's SHA-256, each segment's read-back CRC-32. */
        for (size_t i = 0; i < r.target_count; i++) {
            dfuflash_target_record t = {.size = sizeof t};
            if (dfuflash_device_report_target(dev, i, &t) != DFUFLASH_OK) continue;
            printf("alt %u sha256 ", (unsigned)t.alt);
            for (size_t k = 0; k < sizeof t.sha256; k++) printf("%02x", t.sha256[k]);
            printf("\n");
        }
        for (size_t i = 0; i < r.segment_count; i++) {
            dfuflash_segment_record g = {.size = sizeof g};
            if (dfuflash_device_report_segment(dev, i, &g) != DFUFLASH_OK) continue;
            printf("segment 0x%08x, %llu bytes: crc32 %08x, read back %s\n", (unsigned)g.address,
                   (unsigned long long)g.length, (unsigned)g.crc32,
                   g.read_back ? (g.readback_crc32 == g.crc32 ? "equal" : "DIFFERENT") : "not read");
        }
    } else {
        status = fail("flash", rc);
    }
    dfuflash_options_free(opts);
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
    return status;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "list") == 0) return list(argc >= 3 && strcmp(argv[2], "--sim") == 0);
    if (argc >= 3 && strcmp(argv[1], "flash") == 0) {
        const char *model = NULL, *file = NULL;
        int has_address = 0, leave = 0;
        uint32_t address = 0;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--sim") == 0 && i + 1 < argc) model = argv[++i];
            else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
                address = (uint32_t)strtoul(argv[++i], NULL, 0);
                has_address = 1;
            } else if (strcmp(argv[i], "--leave") == 0) leave = 1;
            else file = argv[i];
        }
        if (file) return flash(model, file, has_address, address, leave);
    }
    fprintf(stderr, "usage: dfuflash-example list [--sim]\n"
                    "       dfuflash-example flash [--sim MODEL] [--address ADDR] [--leave] FILE\n");
    return 2;
}
