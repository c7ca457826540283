/* dfuflash_flash_layout from C, on the simulated STM32N6. Run by tests/c_api.rs:
 *   test_layout DIR STATE
 * DIR holds FlashLayout.tsv and its three binaries (OpenMV's layout, as examples/n6_layout
 * writes it); STATE is the simulated board's state file, which the Rust side reads for the NOR.
 * Prints the report (phases, then one line per partition) for the Rust side to compare with
 * the files' own sizes and CRCs; checks the refusals itself. */
#include "dfuflash.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

typedef struct {
    int starts;
    uint64_t totals[8];
    int logs;
} seen;

static int32_t on_progress(void *user, const dfuflash_progress *p) {
    seen *s = user;
    if (p->phase == DFUFLASH_PHASE_WRITE && p->done == 0 && s->starts < 8) s->totals[s->starts++] = p->total;
    return DFUFLASH_CONTINUE;
}

static void on_log(void *user, int32_t level, const char *message) {
    (void)level;
    (void)message;
    ((seen *)user)->logs++;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* Flashes DIR/NAME on a fresh simulated N6 and expects `code` with `message` in the last error. */
static void refused(const char *dir, const char *name, int32_t code, const char *message) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    dfuflash_device *dev = NULL;
    CHECK(dfuflash_open_simulated("stm32n6", NULL, -1, &dev) == DFUFLASH_OK, "open for %s", name);
    dfuflash_layout_report r;
    memset(&r, 0xA5, sizeof r);
    r.size = sizeof r;
    int32_t got = dfuflash_flash_layout(dev, path, NULL, &r);
    CHECK(got == code, "%s: code %d, expected %d", name, got, code);
    CHECK(strstr(dfuflash_last_error(), message) != NULL, "%s: message has \"%s\"", name, message);
    CHECK(r.reenumerations == 0xA5A5A5A5u, "%s: the report is written only on success", name);
    dfuflash_device_close(dev);
}

static void test_refusals(const char *dir, const char *tsv) {
    dfuflash_layout_report r = {.size = sizeof r};
    CHECK(dfuflash_flash_layout(NULL, tsv, NULL, &r) == DFUFLASH_ERR_NULL_ARGUMENT, "NULL dev");
    CHECK(strcmp(dfuflash_last_error(), "dev is NULL") == 0, "names dev");
    dfuflash_device *dev = NULL;
    CHECK(dfuflash_open_simulated("stm32n6", NULL, -1, &dev) == DFUFLASH_OK, "open");
    CHECK(dfuflash_flash_layout(dev, NULL, NULL, &r) == DFUFLASH_ERR_NULL_ARGUMENT, "NULL tsv_path");
    CHECK(strcmp(dfuflash_last_error(), "tsv_path is NULL") == 0, "names tsv_path");
    r.size = 4;
    CHECK(dfuflash_flash_layout(dev, tsv, NULL, &r) == DFUFLASH_ERR_INVALID_ARGUMENT, "size 4 refused");
    CHECK(strstr(dfuflash_last_error(), "report->size is 4: set it to sizeof(dfuflash_layout_report)") != NULL,
          "the message says how");
    dfuflash_report dr = {.size = sizeof dr};
    CHECK(dfuflash_device_report(dev, &dr) == DFUFLASH_OK && dr.requests == 0, "no request was sent");
    CHECK(dfuflash_device_layout_report(dev, &r) == DFUFLASH_ERR_INVALID_ARGUMENT, "no layout yet");
    CHECK(strstr(dfuflash_last_error(), "did not flash a layout") != NULL, "says why");
    CHECK(dfuflash_device_layout_report(dev, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "NULL out");
    CHECK(dfuflash_device_layout_partition(dev, 0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "NULL partition out");
    dfuflash_partition_record p = {.size = sizeof p};
    CHECK(dfuflash_device_layout_partition(dev, 0, &p) == DFUFLASH_ERR_INVALID_ARGUMENT, "no partition yet");
    CHECK(strcmp(dfuflash_last_error(), "partition index 0 out of range (the last operation's record has 0)") == 0,
          "names the count");
    dfuflash_device_close(dev);
    CHECK(dfuflash_flash_layout(dev, tsv, NULL, NULL) == DFUFLASH_ERR_INVALID_HANDLE, "closed handle");
    CHECK(dfuflash_device_layout_partition(dev, 0, &p) == DFUFLASH_ERR_INVALID_HANDLE, "closed handle");

    write_file(dir, "bad.tsv",
               "#Opt\tId\tName\tType\tIP\tOffset\tBinary\n"
               "P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n"
               "P\t0x1g\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n");
    refused(dir, "bad.tsv", DFUFLASH_ERR_TSV, "bad.tsv:3: column Id: ");
    write_file(dir, "missing.tsv", "P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tnosuch.stm32\n");
    refused(dir, "missing.tsv", DFUFLASH_ERR_FILE_IO, "missing.tsv:1: column Binary: cannot read ");
    refused(dir, "nosuch.tsv", DFUFLASH_ERR_FILE_IO, "nosuch.tsv: cannot read: ");
    /* The ROM checks the FSBL's header and reports phase 0xFF with its reason. */
    write_file(dir, "junk.stm32", "not an FSBL");
    write_file(dir, "junk.tsv", "P\t0x1\tfsbl\tBinary\tnone\t0x0\tjunk.stm32\n");
    refused(dir, "junk.tsv", DFUFLASH_ERR_PHASE_DEVICE_ERROR,
            "the device reported an error (phase 0xFF): FSBL refused: ");
}

static void test_flash(const char *tsv, const char *state) {
    const dfuflash_api *api = dfuflash_get_api(DFUFLASH_ABI_MAJOR);
    CHECK(api && api->abi_version == ((3u << 16) | 2u), "ABI 3.2");
    CHECK(api && api->size >= offsetof(dfuflash_api, device_layout_partition) + sizeof api->device_layout_partition &&
              api->flash_layout == dfuflash_flash_layout,
          "the table has the layout functions");

    dfuflash_device *dev = NULL;
    CHECK(dfuflash_open_simulated("stm32n6", state, -1, &dev) == DFUFLASH_OK, "open");
    dfuflash_options *opts = NULL;
    seen s = {0};
    CHECK(dfuflash_options_new(&opts) == DFUFLASH_OK, "options");
    dfuflash_options_set_progress_callback(opts, on_progress);
    dfuflash_options_set_log_callback(opts, on_log);
    dfuflash_options_set_user_data(opts, &s);
    CHECK(dfuflash_options_set_timeout_ms(opts, DFUFLASH_TIMEOUT_REENUMERATE, 5000) == DFUFLASH_OK, "timeout");
    dfuflash_layout_report r = {.size = sizeof r};
    CHECK(api && api->flash_layout(dev, tsv, opts, &r) == DFUFLASH_OK, "flash the layout");
    CHECK(r.size == sizeof r, "size %u", r.size);
    printf("phases:");
    for (size_t i = 0; i < r.phase_count; i++) printf(" %02x", r.phases[i]);
    printf("\nreenumerations %u, %zu partitions\n", r.reenumerations, r.partition_count);
    printf("write totals:");
    for (int i = 0; i < s.starts; i++) printf(" %llu", (unsigned long long)s.totals[i]);
    printf("\n");
    CHECK(s.logs > 0, "log callback called");
    for (size_t i = 0; i < r.partition_count; i++) {
        dfuflash_partition_record p = {.size = sizeof p};
        CHECK(dfuflash_device_layout_partition(dev, i, &p) == DFUFLASH_OK, "partition %zu", i);
        printf("partition %s id 0x%02x: %llu bytes, crc32 %08x (%s), read back %s, %u download(s) to alt %d\n",
               p.name, p.id, (unsigned long long)p.bytes, p.crc32, p.has_crc32 ? "yes" : "no",
               p.read_back ? "yes" : "no", p.downloads, p.alt);
    }
    dfuflash_partition_record p = {.size = sizeof p};
    CHECK(dfuflash_device_layout_partition(dev, r.partition_count, &p) == DFUFLASH_ERR_INVALID_ARGUMENT,
          "past the last");
    dfuflash_layout_report again = {.size = sizeof again};
    CHECK(dfuflash_device_layout_report(dev, &again) == DFUFLASH_OK && again.phases == r.phases &&
              again.requests == r.requests && again.partition_count == r.partition_count,
          "the report is kept on the device");
    dfuflash_report dr = {.size = sizeof dr};
    CHECK(dfuflash_device_report(dev, &dr) == DFUFLASH_OK && dr.requests == r.requests && dr.requests > 0 &&
              dr.bytes_written == 0 && dr.target_count == 0,
          "the device report says what the layout cost");
    /* The handle describes the ROM it opened, not the OpenBootloader the board is now. */
    CHECK(dfuflash_erase(dev, NULL, 0, 0, true) == DFUFLASH_ERR_UNEXPECTED_STATE, "no operation after the hand-over");
    CHECK(strstr(dfuflash_last_error(), "close this handle and open the board again") != NULL, "says what to do");
    CHECK(dfuflash_flash_layout(dev, tsv, NULL, NULL) == DFUFLASH_ERR_UNEXPECTED_STATE, "nor a second layout");
    dfuflash_device_close(dev);
    dfuflash_options_free(opts);
}

/* Closes the device from its own log callback after the layout's last request (the DETACH that
 * ends it): the call still returns its result, but the report it writes points into no freed
 * memory (ASan checks the rest). */
static dfuflash_device *closed_in_callback;
static int layout_done;
static void close_on_done(void *user, int32_t level, const char *message) {
    (void)user;
    (void)level;
    if (strstr(message, "layout done")) layout_done = 1;
    if (layout_done && strstr(message, "DETACH ended") && closed_in_callback) {
        dfuflash_device_close(closed_in_callback);
        closed_in_callback = NULL;
    }
}

static void test_close_in_callback(const char *tsv) {
    dfuflash_device *dev = NULL;
    CHECK(dfuflash_open_simulated("stm32n6", NULL, -1, &dev) == DFUFLASH_OK, "open");
    dfuflash_options *opts = NULL;
    CHECK(dfuflash_options_new(&opts) == DFUFLASH_OK, "options");
    dfuflash_options_set_log_callback(opts, close_on_done);
    closed_in_callback = dev;
    dfuflash_layout_report r;
    memset(&r, 0xA5, sizeof r);
    r.size = sizeof r;
    CHECK(dfuflash_flash_layout(dev, tsv, opts, &r) == DFUFLASH_OK, "done before the close: %s",
          dfuflash_last_error());
    CHECK(closed_in_callback == NULL, "closed from the callback");
    CHECK(r.phases == NULL && r.phase_count == 0, "no pointer into the closed device");
    CHECK(r.partition_count == 3 && r.reenumerations == 1, "the rest of the report is written");
    dfuflash_options_free(opts);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_layout DIR STATE\n");
        return 2;
    }
    char tsv[4096];
    snprintf(tsv, sizeof tsv, "%s/FlashLayout.tsv", argv[1]);
    test_refusals(argv[1], tsv);
    test_flash(tsv, argv[2]);
    test_close_in_callback(tsv);
    printf("test_layout: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
