/* The C API's contract as the header states it: the codes, what an open handle answers, and
 * what it promises about untrusted devices, alt pairs and deadlines. Part of test_api (see
 * test_api.c, which runs these). */
#include "dfuflash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DFUFLASH_TEST_SPLIT
#include "check.h"
#include "test_api.h"

static dfuflash_options *allow_option_bytes(void) {
    dfuflash_options *o = NULL;
    dfuflash_options_new(&o);
    dfuflash_options_set_flag(o, DFUFLASH_OPT_ALLOW_OPTION_BYTES, true);
    return o;
}

/* Sector 0 of the internal flash still reads erased. */
static int dfuflash_select_alt_then_read_flash_is_untouched(dfuflash_device *dev) {
    uint8_t b[64];
    if (dfuflash_device_select_alt(dev, 0, NULL) != DFUFLASH_OK) return 0;
    if (dfuflash_upload(dev, NULL, 0x08000000u, b, sizeof b) != DFUFLASH_OK) return 0;
    for (size_t i = 0; i < sizeof b; i++)
        if (b[i] != 0xff) return 0;
    return 1;
}

/* Codes that say what happened, and what an integrator can ask an open handle. */
void test_codes_and_queries(void) {
    dfuflash_device *dev = NULL;
    CHECK(dfuflash_open(0, 0, NULL, "sim:stm32h743-revv", -1, "@No Such Memory", DFUFLASH_LIST_SIMULATED, &dev) ==
              DFUFLASH_ERR_NO_SUCH_ALT,
          "unknown alt name");
    CHECK(strstr(dfuflash_last_error(), "@Option Bytes") != NULL, "lists the alts: %s", dfuflash_last_error());
    CHECK(dfuflash_open(0, 0, NULL, "sim:stm32h743-revv", -7, NULL, DFUFLASH_LIST_SIMULATED, &dev) ==
              DFUFLASH_ERR_INVALID_ARGUMENT,
          "negative alt");
    CHECK(dfuflash_open(0, 0, NULL, "sim:stm32h743-revv", 256, NULL, DFUFLASH_LIST_SIMULATED, &dev) ==
              DFUFLASH_ERR_INVALID_ARGUMENT,
          "alt past 255");
    CHECK(dfuflash_open(0, 0, NULL, "sim:stm32h743-revv", -1, NULL, 0x80, &dev) == DFUFLASH_ERR_INVALID_ARGUMENT,
          "unknown open flag");
    dfuflash_device_list *list = NULL;
    CHECK(dfuflash_device_list_new(0x80 | DFUFLASH_LIST_SIMULATED, &list) == DFUFLASH_ERR_INVALID_ARGUMENT,
          "unknown list flag");
    CHECK(dfuflash_open_simulated("stm32h743-revv", NULL, -7, &dev) == DFUFLASH_ERR_INVALID_ARGUMENT,
          "negative alt, simulated");
    CHECK(dfuflash_open_simulated("stm32h743-revv", NULL, 9, &dev) == DFUFLASH_ERR_NO_SUCH_ALT,
          "missing alt number, simulated");
    CHECK(dev == NULL, "no handle on failure");

    /* A wildcard open says what it picked. */
    int rc = dfuflash_open(0, 0, NULL, "sim:stm32h743-revv", -1, NULL, DFUFLASH_LIST_SIMULATED, &dev);
    CHECK(rc == DFUFLASH_OK, "wildcard open by path: %d", rc);
    if (rc != DFUFLASH_OK) return;
    dfuflash_device_desc d = {.size = sizeof d};
    CHECK(dfuflash_device_info(dev, &d) == DFUFLASH_OK, "info");
    CHECK(d.vendor_id == 0x0483 && d.product_id == 0xdf11, "ids %04x:%04x", d.vendor_id, d.product_id);
    CHECK(d.serial && strcmp(d.serial, "200364500000") == 0, "serial %s", d.serial ? d.serial : "(null)");
    CHECK(d.path && strcmp(d.path, "sim:stm32h743-revv") == 0, "path %s", d.path ? d.path : "(null)");
    CHECK(d.mode == DFUFLASH_MODE_DFU && d.dfu_version == 0x011a && d.transfer_size == 1024, "mode, version, size");
    CHECK(d.alt_count == 4 && d.simulated, "alts %zu", d.alt_count);
    uint8_t alt = 99;
    CHECK(dfuflash_device_current_alt(dev, &alt) == DFUFLASH_OK && alt == 0, "current alt %u", alt);
    dfuflash_alt_desc a = {.size = sizeof a};
    CHECK(dfuflash_device_alt(dev, 1, &a) == DFUFLASH_OK && a.alt == 1 && strstr(a.name, "Option Bytes"), "alt 1");
    CHECK(dfuflash_device_alt(dev, 4, &a) == DFUFLASH_ERR_INVALID_ARGUMENT, "alt index out of range");
    uint32_t addr = 0, size = 0;
    uint8_t perms = 0;
    CHECK(dfuflash_device_sector(dev, 0, 8, &addr, &size, &perms) == DFUFLASH_OK, "sector 8");
    CHECK(addr == 0x08100000u && size == 0x20000u && perms == 7, "sector 8 is %08x+%x/%u", addr, size, perms);

    /* Select another alt on the open handle, by name and by number. */
    CHECK(dfuflash_device_select_alt(dev, -1, "@Option Bytes") == DFUFLASH_OK, "select by name");
    CHECK(dfuflash_device_current_alt(dev, &alt) == DFUFLASH_OK && alt == 1, "now alt %u", alt);
    CHECK(dfuflash_device_select_alt(dev, 9, NULL) == DFUFLASH_ERR_NO_SUCH_ALT, "select a missing alt");
    CHECK(dfuflash_device_select_alt(dev, -1, "@Nothing") == DFUFLASH_ERR_NO_SUCH_ALT, "select a missing name");
    CHECK(dfuflash_device_select_alt(dev, -2, NULL) == DFUFLASH_ERR_INVALID_ARGUMENT, "select -2");
    CHECK(dfuflash_device_select_alt(dev, -1, "") == DFUFLASH_ERR_INVALID_ARGUMENT, "an empty name");
    CHECK(dfuflash_device_select_alt(dev, -1, "O") == DFUFLASH_ERR_INVALID_ARGUMENT, "a prefix of two names");
    CHECK(strstr(dfuflash_last_error(), "matches 2 of them") != NULL, "says so: %s", dfuflash_last_error());
    CHECK(dfuflash_device_current_alt(dev, &alt) == DFUFLASH_OK && alt == 1, "still alt %u", alt);
    CHECK(dfuflash_device_select_alt(dev, 0, NULL) == DFUFLASH_OK, "select by number");
    uint8_t buf[16];
    CHECK(dfuflash_upload(dev, NULL, 0x08000000u, buf, sizeof buf) == DFUFLASH_OK, "read on alt 0");

    /* The last error, copied so that it survives later calls. */
    CHECK(dfuflash_device_select_alt(dev, 9, NULL) == DFUFLASH_ERR_NO_SUCH_ALT, "a failure to copy");
    const char *live = dfuflash_last_error();
    size_t needed = 0;
    CHECK(dfuflash_last_error_copy(NULL, 0, &needed) == DFUFLASH_ERR_BUFFER_TOO_SMALL, "size query");
    CHECK(needed == strlen(live) + 1, "needed %zu for %zu chars", needed, strlen(live));
    char small[8];
    CHECK(dfuflash_last_error_copy(small, sizeof small, &needed) == DFUFLASH_ERR_BUFFER_TOO_SMALL, "too small");
    CHECK(strlen(small) == sizeof small - 1 && strncmp(small, live, sizeof small - 1) == 0, "truncated: %s", small);
    char copy[512];
    CHECK(dfuflash_last_error_copy(copy, sizeof copy, &needed) == DFUFLASH_OK, "copy");
    CHECK(strcmp(copy, dfuflash_last_error()) == 0, "the copy leaves the last error as it was");
    CHECK(dfuflash_device_current_alt(dev, &alt) == DFUFLASH_OK, "a later success");
    CHECK(strcmp(dfuflash_last_error(), "") == 0 && strstr(copy, "alt setting 9") != NULL, "copy survives: %s", copy);
    CHECK(dfuflash_last_error_copy(copy, sizeof copy, NULL) == DFUFLASH_ERR_NULL_ARGUMENT, "NULL out_needed");

    /* An explicitly selected alt setting is honoured: an image for another is refused. */
    dfuflash_image *img = NULL;
    uint8_t ob[32];
    memset(ob, 0x3c, sizeof ob);
    CHECK(dfuflash_device_select_alt(dev, 1, NULL) == DFUFLASH_OK, "select the option bytes");
    CHECK(dfuflash_image_from_memory(ob, sizeof ob, 0x08000000u, 0, &img) == DFUFLASH_OK, "image for alt 0");
    CHECK(dfuflash_download(dev, img, NULL) == DFUFLASH_ERR_ALT_MISMATCH, "alt 0 image on alt 1");
    CHECK(strstr(dfuflash_last_error(), "alt setting 0, but alt setting 1 is selected") != NULL, "says both: %s",
          dfuflash_last_error());
    dfuflash_image_free(img);
    CHECK(dfuflash_image_from_memory(ob, sizeof ob, 0x5200201cu, 1, &img) == DFUFLASH_OK, "image for alt 1");
    CHECK(dfuflash_download(dev, img, NULL) == DFUFLASH_ERR_PROTECTED, "option bytes need permission");
    CHECK(strstr(dfuflash_last_error(), "allow-option-bytes option") != NULL &&
              strstr(dfuflash_last_error(), "--") == NULL,
          "named in the library's terms: %s", dfuflash_last_error());
    dfuflash_options *o = NULL;
    dfuflash_options_new(&o);
    dfuflash_options_set_flag(o, DFUFLASH_OPT_ALLOW_OPTION_BYTES, true);
    CHECK(dfuflash_download(dev, img, o) == DFUFLASH_OK, "option bytes with permission");
    uint8_t back[sizeof ob];
    CHECK(dfuflash_upload(dev, NULL, 0x5200201cu, back, sizeof back) == DFUFLASH_OK && memcmp(back, ob, sizeof ob) == 0,
          "the option bytes hold the image");
    CHECK(dfuflash_select_alt_then_read_flash_is_untouched(dev), "alt 0 untouched");
    dfuflash_options_free(o);
    dfuflash_image_free(img);
    dfuflash_options *o2 = NULL;

    /* A download switches to its image's alt setting and back: later calls act on the old one. */
    dfuflash_device *f4 = NULL;
    CHECK(dfuflash_open_simulated("stm32f405", NULL, -1, &f4) == DFUFLASH_OK, "open f405");
    CHECK(dfuflash_image_from_memory(ob, 16, 0x1fffc000u, 1, &img) == DFUFLASH_OK, "image for f405 alt 1");
    CHECK(dfuflash_download(f4, img, o2 = allow_option_bytes()) == DFUFLASH_OK, "no selection: the image's alt");
    CHECK(dfuflash_device_current_alt(f4, &alt) == DFUFLASH_OK && alt == 0, "back on alt %u", alt);
    CHECK(dfuflash_upload(f4, NULL, 0x08000000u, buf, sizeof buf) == DFUFLASH_OK, "read alt 0 after");
    dfuflash_options_free(o2);
    dfuflash_image_free(img);
    dfuflash_device_close(f4);

    /* A panic in the middle of an erase on a part that stalls GETSTATUS while busy (STM32L4). */
    dfuflash_device *l4 = NULL;
    uint8_t page[2048];
    memset(page, 0x6b, sizeof page);
    CHECK(dfuflash_open_simulated("stm32l4", NULL, -1, &l4) == DFUFLASH_OK, "open l4");
    CHECK(dfuflash_image_from_memory(page, sizeof page, 0x08004000u, 0, &img) == DFUFLASH_OK, "l4 image");
    CHECK(dfuflash_device_set_sim_faults(l4, "panic@8") == DFUFLASH_OK, "arm");
    CHECK(dfuflash_download(l4, img, NULL) == DFUFLASH_ERR_PANIC, "panic");
    rc = dfuflash_download(l4, img, NULL);
    CHECK(rc == DFUFLASH_OK, "the next download recovers the stalling device: %d", rc);
    dfuflash_image_free(img);
    dfuflash_device_close(l4);

    /* A closed handle is an error, never freed memory. */
    dfuflash_device_close(dev);
    CHECK(dfuflash_cancel(dev) == DFUFLASH_ERR_INVALID_HANDLE, "cancel after close");
    CHECK(dfuflash_device_info(dev, &d) == DFUFLASH_ERR_INVALID_HANDLE, "info after close");
    CHECK(dfuflash_upload(dev, NULL, 0x08000000u, buf, sizeof buf) == DFUFLASH_ERR_INVALID_HANDLE, "upload after close");
    dfuflash_device_close(dev); /* a second close is a no-op */
}

/* Issue 16: what the header promises about untrusted devices, alt pairs, deadlines. */
void test_header_contract(const char *dfu) {
    dfuflash_device *dev = NULL;
    /* An alt number and an alt name together must name the same alt setting. */
    int rc = dfuflash_open(0, 0, NULL, "sim:stm32f405", 2, "@Option Bytes", DFUFLASH_LIST_SIMULATED, &dev);
    CHECK(rc == DFUFLASH_ERR_INVALID_ARGUMENT && dev == NULL, "alt 2 with the name of alt 1: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "name different alt settings") != NULL, "says why: %s", dfuflash_last_error());
    rc = dfuflash_open(0, 0, NULL, "sim:stm32f405", 1, "@Option Bytes", DFUFLASH_LIST_SIMULATED, &dev);
    CHECK(rc == DFUFLASH_OK, "alt 1 with its own name: %d", rc);
    uint8_t alt = 99;
    if (dev) {
        CHECK(dfuflash_device_select_alt(dev, 2, "@Option Bytes") == DFUFLASH_ERR_INVALID_ARGUMENT, "select a mismatched pair");
        CHECK(dfuflash_device_current_alt(dev, &alt) == DFUFLASH_OK && alt == 1, "still alt 1: %u", alt);
        CHECK(dfuflash_device_select_alt(dev, 0, "@Internal Flash") == DFUFLASH_OK, "select a matching pair");
        CHECK(dfuflash_device_current_alt(dev, &alt) == DFUFLASH_OK && alt == 0, "now alt 0: %u", alt);
        dfuflash_device_close(dev);
        dev = NULL;
    }

    /* An unknown model in DFUFLASH_SIM is the simulator's error, not an argument's. */
    setenv("DFUFLASH_SIM", "nosuch", 1);
    dfuflash_device_list *list = NULL;
    rc = dfuflash_device_list_new(0, &list);
    CHECK(rc == DFUFLASH_ERR_SIMULATOR && list == NULL, "DFUFLASH_SIM=nosuch: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "DFUFLASH_SIM=nosuch: unknown simulator model") != NULL, "%s",
          dfuflash_last_error());
    rc = dfuflash_open(0x0483, 0xdf11, NULL, NULL, -1, NULL, 0, &dev);
    CHECK(rc == DFUFLASH_ERR_SIMULATOR, "open with DFUFLASH_SIM=nosuch: %d", rc);
    unsetenv("DFUFLASH_SIM");

    /* With verify off, the bytes the comparison read and found equal still count as verified. */
    dfuflash_image *img = NULL;
    CHECK(dfuflash_image_load(dfu, 0, false, 0, &img) == DFUFLASH_OK, "load %s", dfu);
    CHECK(dfuflash_open_simulated("stm32h743-revy", NULL, -1, &dev) == DFUFLASH_OK, "open rev y");
    if (!dev || !img) return;
    uint32_t addr = 0;
    const uint8_t *data = NULL;
    size_t bytes = 0;
    CHECK(dfuflash_image_segment(img, 0, 0, &addr, &data, &bytes) == DFUFLASH_OK, "segment");
    dfuflash_options *o = NULL;
    CHECK(dfuflash_options_new(&o) == DFUFLASH_OK, "options");
    CHECK(dfuflash_download(dev, img, o) == DFUFLASH_OK, "first download");
    CHECK(dfuflash_options_set_flag(o, DFUFLASH_OPT_VERIFY, false) == DFUFLASH_OK, "verify off");
    CHECK(dfuflash_download(dev, img, o) == DFUFLASH_OK, "unchanged download, verify off");
    dfuflash_report r = {.size = sizeof r};
    CHECK(dfuflash_device_report(dev, &r) == DFUFLASH_OK, "report");
    CHECK(r.sectors_skipped_count == 14 && r.bytes_written == 0, "every sector compared equal: %zu", r.sectors_skipped_count);
    CHECK(r.bytes_verified == bytes, "compared bytes count as verified: %llu of %zu",
          (unsigned long long)r.bytes_verified, bytes);

    /* A deadline for the whole operation: 1 ms of the simulator's clock is two requests. */
    CHECK(dfuflash_options_set_timeout_ms(o, DFUFLASH_TIMEOUT_JOB, 1) == DFUFLASH_OK, "job timeout");
    rc = dfuflash_download(dev, img, o);
    CHECK(rc == DFUFLASH_ERR_JOB_TIMEOUT, "past the deadline: %d", rc);
    CHECK(strstr(dfuflash_last_error(), "ran past its deadline") != NULL, "%s", dfuflash_last_error());
    CHECK(strcmp(dfuflash_status_str(DFUFLASH_ERR_JOB_TIMEOUT), "the operation ran past its deadline") == 0, "code string");
    CHECK(dfuflash_options_set_timeout_ms(o, DFUFLASH_TIMEOUT_JOB, 600000) == DFUFLASH_OK, "a long one");
    CHECK(dfuflash_download(dev, img, o) == DFUFLASH_OK, "the next operation works");
    dfuflash_options_free(o);
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
}
