/* Presses Ctrl-C at a command, as a user in its console would, and reports how it ended.
 *
 *   ctrl_c NAME DELAY_MS[,DELAY_MS...] COMMAND LINE...
 *
 * Starts the command in this console (its stdout and stderr going to NAME.out and NAME.err),
 * sends CTRL_C_EVENT to the console after each delay, waits for the command (60 s at most),
 * and writes "exit CODE after SECONDS s, N sent" to NAME.result. Wine delivers console events
 * when its console is a terminal: scripts/test-windows.sh runs this under `script`, which gives
 * it a pty (whose output Wine's console redraws, hence the files). */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE file(const char *name, const char *suffix) {
    char path[MAX_PATH];
    snprintf(path, sizeof path, "%s%s", name, suffix);
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    return CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ctrl_c NAME DELAY_MS[,DELAY_MS...] COMMAND...\n");
        return 2;
    }
    char cmd[8192] = "";
    for (int i = 3; i < argc; i++) {
        strncat(cmd, i > 3 ? " " : "", sizeof cmd - strlen(cmd) - 1);
        strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 1);
    }
    FILE *result = NULL;
    char path[MAX_PATH];
    snprintf(path, sizeof path, "%s.result", argv[1]);
    if (!(result = fopen(path, "w"))) return 2;
    STARTUPINFOA si;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = file(argv[1], ".out");
    si.hStdError = file(argv[1], ".err");
    PROCESS_INFORMATION pi;
    DWORD start = GetTickCount();
    if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        fprintf(result, "cannot start %s (error %lu)\n", cmd, GetLastError());
        return 2;
    }
    /* Ignore the event here, after the start: a child inherits the ignoring. */
    SetConsoleCtrlHandler(NULL, TRUE);
    int sent = 0;
    for (char *d = strtok(argv[2], ","); d; d = strtok(NULL, ",")) {
        if (WaitForSingleObject(pi.hProcess, (DWORD)atoi(d)) == WAIT_OBJECT_0) break;
        if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) {
            fprintf(result, "GenerateConsoleCtrlEvent failed (error %lu)\n", GetLastError());
            TerminateProcess(pi.hProcess, 99);
            return 2;
        }
        sent++;
    }
    DWORD waited = WaitForSingleObject(pi.hProcess, 60000);
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    if (waited != WAIT_OBJECT_0) TerminateProcess(pi.hProcess, 99);
    fprintf(result, "exit %lu after %.1f s, %d sent\n", code, (GetTickCount() - start) / 1000.0, sent);
    fclose(result);
    return 0;
}
