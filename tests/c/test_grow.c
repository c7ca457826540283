/* ABI 3's structs that grow, from a C caller's side. Run by tests/c_api.rs:
 *   test_grow FILE.bin SHA256 CRC32   (a raw image for 0x08040000, its SHA-256 and CRC-32 in hex)
 * - an old-layout caller (a struct without the fields added since the base) gets its fields,
 *   and nothing is written past its struct;
 * - a caller built against a newer header (a field the library does not have) learns from
 *   `size` that the field was not filled, and the field is left alone;
 * - a size that does not hold the base fields is refused and nothing is written;
 * - the record of a download: each target's SHA-256, each segment's CRC-32 and read-back CRC. */
#include "dfuflash.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* dfuflash_report as a program built before bytes_checked and the record counts saw it. */
typedef struct {
    uint32_t size;
    uint64_t bytes_written;
    uint64_t bytes_verified;
    uint64_t requests;
    const uint32_t *sectors_erased;
    size_t sectors_erased_count;
    const uint32_t *workaround_sectors;
    size_t workaround_sectors_count;
    bool mass_erased;
    bool left;
    double elapsed_seconds;
    double wall_seconds;
    double device_busy_seconds;
    const uint32_t *sectors_skipped;
    size_t sectors_skipped_count;
} old_report;

/* dfuflash_device_desc as a program built before the driver fields saw it. */
typedef struct {
    uint32_t size;
    uint16_t vendor_id;
    uint16_t product_id;
    uint16_t bcd_device;
    uint16_t dfu_version;
    uint16_t transfer_size;
    uint8_t attributes;
    int32_t mode;
    const char *manufacturer;
    const char *product;
    const char *serial;
    const char *path;
    size_t alt_count;
    bool simulated;
} old_device_desc;

#define CANARY 0xA5

static int untouched(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY) return 0;
    return 1;
}

static void hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_old_and_new_callers(dfuflash_device *dev, size_t len) {
    /* The old layout is the new one's prefix. */
    CHECK(offsetof(old_report, sectors_skipped_count) == offsetof(dfuflash_report, sectors_skipped_count),
          "old report layout is a prefix");
    CHECK(sizeof(old_report) < sizeof(dfuflash_report), "the report grew");

    struct {
        old_report r;
        unsigned char after[64];
    } old;
    memset(&old, CANARY, sizeof old);
    old.r.size = sizeof old.r;
    CHECK(dfuflash_device_report(dev, (dfuflash_report *)&old.r) == DFUFLASH_OK, "old caller's report");
    CHECK(old.r.size == sizeof old.r, "size says what was filled: %u", old.r.size);
    CHECK(old.r.bytes_verified == len && old.r.sectors_erased_count > 0 && old.r.sectors_skipped_count == 0,
          "old caller's fields: verified %llu", (unsigned long long)old.r.bytes_verified);
    CHECK(untouched(old.after, sizeof old.after), "nothing written past the old caller's struct");

    struct {
        old_device_desc d;
        unsigned char after[64];
    } od;
    memset(&od, CANARY, sizeof od);
    od.d.size = sizeof od.d;
    CHECK(dfuflash_device_info(dev, (dfuflash_device_desc *)&od.d) == DFUFLASH_OK, "old caller's device info");
    CHECK(od.d.size == sizeof od.d && od.d.vendor_id == 0x0483 && od.d.simulated, "old caller's device fields");
    CHECK(untouched(od.after, sizeof od.after), "nothing written past the old caller's device desc");

    /* A caller built against a newer header: one more field the library does not know. */
    struct newer_report {
        dfuflash_report r;
        uint64_t from_the_future;
    } newer;
    memset(&newer, CANARY, sizeof newer);
    newer.r.size = sizeof newer;
    CHECK(dfuflash_device_report(dev, &newer.r) == DFUFLASH_OK, "newer caller's report");
    CHECK(newer.r.size == sizeof(dfuflash_report), "size says the library filled %u bytes", newer.r.size);
    CHECK(untouched((const unsigned char *)&newer.from_the_future, sizeof newer.from_the_future),
          "the newer field is left alone");
    CHECK(newer.r.bytes_verified == len && newer.r.target_count == 1 && newer.r.segment_count == 1 &&
              newer.r.sectors_planned == newer.r.sectors_erased_count,
          "the new fields are there");

    /* A size too small for the base fields, or not set at all. */
    unsigned char buf[sizeof(dfuflash_report)];
    uint32_t sizes[] = {0, 4, offsetof(dfuflash_report, sectors_skipped_count)};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        memset(buf, CANARY, sizeof buf);
        memcpy(buf, &sizes[i], sizeof sizes[i]);
        CHECK(dfuflash_device_report(dev, (dfuflash_report *)buf) == DFUFLASH_ERR_INVALID_ARGUMENT,
              "size %u refused", sizes[i]);
        CHECK(strstr(dfuflash_last_error(), "set it to sizeof(dfuflash_report)") != NULL, "the message says how");
        CHECK(untouched(buf + sizeof(uint32_t), sizeof buf - sizeof(uint32_t)), "nothing written");
    }
}

static void test_record(dfuflash_device *dev, size_t len, const char *sha, const char *crc) {
    dfuflash_target_record t = {.size = sizeof t};
    CHECK(dfuflash_device_report_target(dev, 0, &t) == DFUFLASH_OK, "target 0");
    char got[65];
    hex(t.sha256, 32, got);
    CHECK(t.alt == 0 && t.bytes == len && strcmp(got, sha) == 0, "target: alt %u, %llu bytes, sha256 %s", t.alt,
          (unsigned long long)t.bytes, got);
    CHECK(dfuflash_device_report_target(dev, 1, &t) == DFUFLASH_ERR_INVALID_ARGUMENT, "target 1 is out of range");

    dfuflash_segment_record s = {.size = sizeof s};
    CHECK(dfuflash_device_report_segment(dev, 0, &s) == DFUFLASH_OK, "segment 0");
    char c[9];
    snprintf(c, sizeof c, "%08x", s.crc32);
    CHECK(s.address == 0x08040000u && s.length == len && strcmp(c, crc) == 0, "segment: %08x, %llu bytes, crc %s",
          s.address, (unsigned long long)s.length, c);
    CHECK(s.read_back && s.readback_crc32 == s.crc32, "read back: %d, %08x", s.read_back, s.readback_crc32);
    CHECK(dfuflash_device_report_segment(dev, 0, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "NULL out");
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_grow FILE.bin SHA256 CRC32\n");
        return 2;
    }
    CHECK(dfuflash_get_api(2) == NULL, "the library refuses ABI 2 callers");
    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    CHECK(dfuflash_open_simulated("stm32h743-revy", NULL, -1, &dev) == DFUFLASH_OK, "open");
    CHECK(dfuflash_image_load(argv[1], 0x08040000u, true, 0, &img) == DFUFLASH_OK, "load %s", argv[1]);
    if (!dev || !img) return 1;
    size_t nseg = 0, len = 0;
    uint8_t alt = 0;
    uint32_t addr = 0;
    const uint8_t *data = NULL;
    dfuflash_image_target(img, 0, &alt, &nseg);
    dfuflash_image_segment(img, 0, 0, &addr, &data, &len);
    CHECK(dfuflash_download(dev, img, NULL) == DFUFLASH_OK, "download");
    test_old_and_new_callers(dev, len);
    test_record(dev, len, argv[2], argv[3]);
    /* Another operation replaces the record. */
    uint8_t b[4];
    CHECK(dfuflash_upload(dev, NULL, 0x08040000u, b, sizeof b) == DFUFLASH_OK, "upload");
    dfuflash_report r = {.size = sizeof r};
    CHECK(dfuflash_device_report(dev, &r) == DFUFLASH_OK && r.target_count == 0 && r.segment_count == 0,
          "an upload has no record");
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
    printf("grow: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
