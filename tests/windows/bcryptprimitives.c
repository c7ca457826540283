/* A stand-in for bcryptprimitives.dll, which Windows 10 and 11 have and Debian's Wine 8 lacks.
 * Rust's std (since 1.78) imports ProcessPrng from it; without it every program exits at once.
 * For the tests under Wine only: it is never shipped. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
