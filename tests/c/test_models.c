/* Flashes one simulated model through the C API, as an integrator would:
 *   test_models MODEL STATE_FILE ALT FILE ADDRESS
 * FILE is a raw binary for ADDRESS (hex; 0 for a DFU 1.1 device's slot) of alt setting ALT.
 * The memory is kept in STATE_FILE, which the Rust side (tests/c_api.rs) compares with FILE. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: test_models MODEL STATE ALT FILE ADDRESS\n");
        return 2;
    }
    const char *model = argv[1], *state = argv[2], *file = argv[4];
    int32_t alt = (int32_t)strtol(argv[3], NULL, 10);
    uint32_t address = (uint32_t)strtoul(argv[5], NULL, 16);

    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    CHECK(dfuflash_open_simulated(model, state, alt, &dev) == DFUFLASH_OK, "open %s", model);
    CHECK(dfuflash_image_load(file, address, true, (uint8_t)alt, &img) == DFUFLASH_OK, "load %s", file);
    if (dev && img) {
        int rc = dfuflash_download(dev, img, NULL);
        CHECK(rc == DFUFLASH_OK, "%s: download: %s", model, dfuflash_status_str(rc));
        dfuflash_report r = {.size = sizeof r};
        CHECK(dfuflash_device_report(dev, &r) == DFUFLASH_OK, "report");
        /* ABI 3.1: why a requested verify did not run, owned by dev; NULL when it ran. */
        printf("%s: %llu bytes written, %llu verified%s%s\n", model,
               (unsigned long long)r.bytes_written, (unsigned long long)r.bytes_verified,
               r.unverified ? ", unverified: " : "", r.unverified ? r.unverified : "");
    }
    dfuflash_image_free(img);
    dfuflash_device_close(dev);
    printf("test_models %s: %d passed, %d failed\n", model, passed, failed);
    return failed ? 1 : 0;
}
