/* Loads the library at run time, as an IDE plugin host would, and flashes the simulator
 * through the dfuflash_get_api table only.  test_dlopen PATH/libdfuflash.so */
#include "dfuflash.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    typedef const dfuflash_api *(*get_api_fn)(uint32_t);
    get_api_fn get_api;
    *(void **)(&get_api) = dlsym(lib, "dfuflash_get_api");
    int passed = 0, failed = 0;
#define CHECK(c) ((c) ? passed++ : (failed++, fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #c)))
    CHECK(get_api != NULL);
    if (!get_api) return 1;
    CHECK(get_api(DFUFLASH_ABI_MAJOR + 1) == NULL);
    CHECK(get_api(0) == NULL);
    const dfuflash_api *api = get_api(DFUFLASH_ABI_MAJOR);
    CHECK(api != NULL);
    if (!api) return 1;
    CHECK(api->size >= sizeof(dfuflash_api));
    CHECK((api->abi_version >> 16) == DFUFLASH_ABI_MAJOR);
    CHECK(strcmp(api->version(), "0.3.0") == 0);

    dfuflash_device *dev = NULL;
    dfuflash_image *img = NULL;
    static uint8_t fw[0x30000];
    for (size_t i = 0; i < sizeof fw; i++) fw[i] = (uint8_t)(i ^ (i >> 8));
    CHECK(api->open_simulated("stm32h743-revv", NULL, 0, &dev) == DFUFLASH_OK);
    CHECK(api->image_from_memory(fw, sizeof fw, 0x080f0000u, 0, &img) == DFUFLASH_OK);
    CHECK(api->download(dev, img, NULL) == DFUFLASH_OK);
    dfuflash_report r = {.size = sizeof r};
    CHECK(api->device_report(dev, &r) == DFUFLASH_OK);
    CHECK(r.bytes_verified == sizeof fw);
    CHECK(r.workaround_sectors_count == 1 && r.workaround_sectors[0] == 0x08100000u);
    uint8_t back[256];
    CHECK(api->upload(dev, NULL, 0x08100000u, back, sizeof back) == DFUFLASH_OK);
    CHECK(memcmp(back, fw + 0x10000, sizeof back) == 0);
    CHECK(api->download(NULL, img, NULL) == DFUFLASH_ERR_NULL_ARGUMENT);
    CHECK(strcmp(api->status_str(DFUFLASH_ERR_NULL_ARGUMENT), "a required pointer argument is NULL") == 0);
    api->image_free(img);
    api->device_close(dev);
    dlclose(lib);
    printf("c dlopen: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
