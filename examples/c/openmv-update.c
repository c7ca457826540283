/* openmv-update: what OpenMV IDE's bootloader dialog does, through the C ABI instead of
 * dfu-util: the firmware to the FIRMWARE partition, the ROMFS image to ROMFS0, both verified by
 * read-back, then the reset that starts the new firmware.
 *
 *   openmv-update [--sim MODEL [--sim-state FILE]] FIRMWARE.bin ROMFS.img
 *
 * Without --sim it opens the one OpenMV camera (VID 37c5) in its bootloader. The partitions are
 * chosen by their alt setting's name; the image is made for the alt setting that name selects. */
#include <dfuflash.h>

#include <stdio.h>
#include <string.h>

/* The last progress of each phase: for a plain DFU 1.1 device, write and verify count the
 * image's bytes. */
struct totals {
    unsigned long long write_done, write_total, verify_done, verify_total;
};

static int32_t on_progress(void *user, const dfuflash_progress *p) {
    struct totals *t = user;
    if (p->phase == DFUFLASH_PHASE_WRITE) {
        t->write_done = p->done;
        t->write_total = p->total;
    } else if (p->phase == DFUFLASH_PHASE_VERIFY) {
        t->verify_done = p->done;
        t->verify_total = p->total;
    }
    return DFUFLASH_CONTINUE;
}

static int fail(const char *what, int32_t rc) {
    fprintf(stderr, "openmv-update: %s: %s (%s)\n", what, dfuflash_status_str(rc), dfuflash_last_error());
    return 1;
}

/* Selects the partition `name`, then downloads `path` to it (a raw image from its start). */
static int flash_partition(dfuflash_device *dev, const char *name, const char *path) {
    int32_t rc = dfuflash_device_select_alt(dev, -1, name);
    if (rc != DFUFLASH_OK) return fail(name, rc);
    uint8_t alt = 0;
    rc = dfuflash_device_current_alt(dev, &alt);
    if (rc != DFUFLASH_OK) return fail("current alt", rc);
    dfuflash_image *img = NULL;
    rc = dfuflash_image_load(path, 0, true, alt, &img);
    if (rc != DFUFLASH_OK) return fail(path, rc);
    dfuflash_options *opts = NULL;
    struct totals t = {0, 0, 0, 0};
    rc = dfuflash_options_new(&opts);
    if (rc == DFUFLASH_OK) rc = dfuflash_options_set_progress_callback(opts, on_progress);
    if (rc == DFUFLASH_OK) rc = dfuflash_options_set_user_data(opts, &t);
    if (rc == DFUFLASH_OK) rc = dfuflash_download(dev, img, opts);
    dfuflash_options_free(opts);
    dfuflash_image_free(img);
    if (rc != DFUFLASH_OK) return fail(name, rc);
    dfuflash_report r = {.size = sizeof r};
    rc = dfuflash_device_report(dev, &r);
    if (rc != DFUFLASH_OK) return fail("report", rc);
    printf("%s (alt %u): %llu bytes written, %llu verified; progress write %llu/%llu, verify %llu/%llu\n", name,
           (unsigned)alt, (unsigned long long)r.bytes_written, (unsigned long long)r.bytes_verified, t.write_done,
           t.write_total, t.verify_done, t.verify_total);
    return 0;
}

int main(int argc, char **argv) {
    const char *model = NULL, *state = NULL;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--sim") == 0) model = argv[i + 1];
        else if (strcmp(argv[i], "--sim-state") == 0) state = argv[i + 1];
        else break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: openmv-update [--sim MODEL [--sim-state FILE]] FIRMWARE.bin ROMFS.img\n");
        return 2;
    }
    dfuflash_device *dev = NULL;
    int32_t rc = model ? dfuflash_open_simulated(model, state, -1, &dev)
                       : dfuflash_open(0x37c5, 0, NULL, NULL, -1, "FIRMWARE", 0, &dev);
    if (rc != DFUFLASH_OK) return fail("open", rc);
    int failed = flash_partition(dev, "FIRMWARE", argv[i]) || flash_partition(dev, "ROMFS0", argv[i + 1]);
    if (!failed) {
        /* The bootloader starts the firmware on a USB reset (or a DETACH). */
        rc = dfuflash_leave(dev, 0, false);
        if (rc != DFUFLASH_OK) failed = fail("reset", rc);
        else printf("reset: the camera runs its new firmware\n");
    }
    dfuflash_device_close(dev);
    return failed;
}
