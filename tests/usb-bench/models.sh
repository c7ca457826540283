# Issue 19: each model beside dfu-util 0.11, on the command line its community documents
# (sourced by guest.sh, which defines $W, $DF, $OURS, start_gadget, stop_gadget,
# settle_gadget, pass, fail, json, now and elapsed). Both tools run the same line against a
# fresh board; the bytes are taken from the gadget's state file, so a device that cannot
# upload is checked too. dfuflash must exit 0 with the image in place; what dfu-util does is
# reported, whatever it is.

# STATE ALT ADDRESS LEN OUT: the bytes at ADDRESS of alt setting ALT in a simulator state file.
state_bytes() {
    python3 - "$@" <<'PY'
import sys
path, alt, addr, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0), int(sys.argv[4]), sys.argv[5]
d = open(path, "rb").read()
i = 0
def line():
    global i
    j = d.index(b"\n", i)
    s, i = d[i:j].decode(), j + 1
    return s
for _ in range(4):
    line()
while True:
    head = line().split()
    if head[0] != "region":
        sys.exit(f"no region of alt {alt} holds {addr:#x}")
    a, start, size = int(head[1]), int(head[2], 0), int(head[3])
    body, i = d[i:i + size], i + size + 1
    if a == alt and start <= addr and addr + n <= start + size:
        open(out, "wb").write(body[addr - start:addr - start + n])
        break
PY
}

# NAME MODEL ALT ADDRESS EXPECT ARGS...: both tools with ARGS; EXPECT is the file of the bytes
# the board must hold at ADDRESS of ALT afterwards.
side_model() {
    local name=$1 model=$2 alt=$3 addr=$4 expect=$5; shift 5
    local len tool exe t rc got verdict
    len=$(stat -c %s $expect)
    for tool in du ours; do
        rm -f $W/m.state $W/m-$tool.bin
        start_gadget $model --state $W/m.state || return
        exe=dfu-util; [ $tool = ours ] && exe=$OURS
        t=$(now)
        (cd $W && timeout 120 $exe "$@" >$W/m-$tool.log 2>&1); rc=$?
        eval "t_$tool=$(elapsed $t)"
        settle_gadget
        state_bytes $W/m.state $alt $addr $len $W/m-$tool.bin 2>>$W/m-$tool.log
        if [ $rc -eq 124 ]; then verdict="hung (stopped at 120 s)"
        elif cmp -s $W/m-$tool.bin $expect; then verdict="flashed (exit $rc)"
        elif [ $rc -ne 0 ]; then verdict="failed (exit $rc)"
        else verdict="wrong bytes (exit 0)"; fi
        eval "v_$tool='$verdict' rc_$tool=$rc"
    done
    local line="model $name: dfu-util ${v_du}, $t_du s; dfuflash ${v_ours}, $t_ours s"
    # What dfu-util said when it did not flash: its last error line.
    [ "$v_du" = "flashed (exit 0)" ] || line+=" ($(grep -a 'dfu-util:' $W/m-du.log | tail -1 | tr -d '\r'))"
    # libusb keeps its device list from udev's events, and the guest runs no udevd: dfu-util,
    # which rescans with the context it opened before the detach, never sees the device come
    # back. dfuflash opens a fresh context to look for it.
    grep -q "Lost device after RESET" $W/m-du.log && line+=" [no udevd in the guest]"
    if [ "$rc_ours" -eq 0 ] && [ "$v_ours" = "flashed (exit 0)" ]; then
        pass "$line"
    else
        fail "$line: $(tail -3 $W/m-ours.log | tr '\r\n' '  ')"
    fi
}

python3 - $W <<'PY'
import sys, random
w = sys.argv[1]
r = random.Random(19)
open(w + "/m64.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(64 * 1024)))
open(w + "/m48.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(48 * 1024)))
PY
# Espressif's dfu.bin carries a DFU suffix for 303a:0002 (esp-idf tools/mkdfu.py).
cp $W/m48.bin $W/dfu.bin && dfu-suffix -v 303a -p 0002 -d ffff -a $W/dfu.bin >/dev/null

# The GD32VF103's serial is UTF-8 in its descriptor: both tools read 3CBJ, and dfuflash's layout
# comes from that part number (128 pages of 1 KB, where the device says 512 of 2 KB).
if start_gadget gd32vf103; then
    timeout 30 $DF list --json >$W/gd.json 2>$W/gd.err
    timeout 30 dfu-util -l >$W/gd-du.txt 2>&1
    stop_gadget
    got=$(json $W/gd.json "[(x['serial'], x['alt_settings'][0]['name']) for x in d['devices']]")
    if [ "$got" = "[('3CBJ', '@Internal Flash  /0x08000000/128*001Kg')]" ] \
        && grep -q 'alt=0, name="@Internal Flash  /0x08000000/512\*002Kg", serial="3CBJ"' $W/gd-du.txt; then
        pass "gd32vf103 over USB: the UTF-8 serial reads 3CBJ in dfuflash and dfu-util; dfuflash's layout is the part's 128 x 1 KB"
    else
        fail "gd32vf103 over USB: dfuflash $got $(cat $W/gd.err); dfu-util: $(grep -a alt=0 $W/gd-du.txt)"
    fi
fi
# PlatformIO's platform-gd32v (dfu upload protocol).
side_model "gd32vf103 (PlatformIO)" gd32vf103 0 0x08000000 $W/m64.bin \
    -d 28e9:0189 -a 0 --dfuse-address 0x08000000:leave -D m64.bin
# Issue 29: how the GD32VF103's ROM leaves is not known, so PlatformIO's line runs against each
# way it may (src/sim/models/gd32vf103.rs). MODEL EXIT WHERE ARGS...: dfuflash must flash the
# bytes, exit EXIT and leave the board WHERE (left or stayed, from the gadget's own line); where
# the board is to leave, dfu-util 0.11 (which makes a real Longan Nano leave) must leave it too,
# or the variant is not a ROM it works with.
side_leave() {
    local model=$1 want_rc=$2 want=$3; shift 3
    local tool exe rc where verdict
    for tool in du ours; do
        rm -f $W/m.state $W/l-$tool.bin
        start_gadget $model --state $W/m.state || return
        exe=dfu-util; [ $tool = ours ] && exe=$OURS
        (cd $W && timeout 120 $exe "$@" >$W/l-$tool.log 2>&1); rc=$?
        settle_gadget
        state_bytes $W/m.state 0 0x08000000 $(stat -c %s $W/m64.bin) $W/l-$tool.bin 2>>$W/l-$tool.log
        where=stayed; grep -q "usb_gadget: left DFU mode" $W/gadget.log && where=left
        if [ $rc -eq 124 ]; then verdict="hung (stopped at 120 s)"
        elif cmp -s $W/l-$tool.bin $W/m64.bin; then verdict="flashed"
        else verdict="wrong bytes"; fi
        eval "v_$tool='$verdict, board $where (exit $rc)' w_$tool=$where"
    done
    local line="leave $model (PlatformIO): dfu-util ${v_du}; dfuflash ${v_ours}"
    if [ "$v_ours" = "flashed, board $want (exit $want_rc)" ] && { [ $want = stayed ] || [ $w_du = left ]; }; then
        pass "$line"
    else
        fail "$line: $(tail -2 $W/l-ours.log | tr '\r\n' '  ')"
    fi
}
for v in gd32vf103-leave-dnload-unanswered gd32vf103-leave-dnload \
    gd32vf103-leave-status-unanswered gd32vf103-leave-manifest; do
    side_leave $v 0 left -d 28e9:0189 -a 0 --dfuse-address 0x08000000:leave -D m64.bin
done
# The board that answers it is still in DFU mode: dfuflash says so with dfu-util's EX_IOERR.
side_leave gd32vf103-stays 74 stayed -d 28e9:0189 -a 0 --dfuse-address 0x08000000:leave -D m64.bin
# The flight controllers' wikis (Betaflight, INAV) for an F7 in DFU mode.
side_model "stm32f7 (Betaflight/INAV wiki)" stm32f7 0 0x08000000 $W/m64.bin \
    -d 0483:df11 -a 0 -s 0x08000000:leave -D m64.bin
side_model "stm32g4 (ST ROM, -s :leave)" stm32g4 0 0x08000000 $W/m64.bin \
    -d 0483:df11 -a 0 -s 0x08000000:leave -D m64.bin
side_model "stm32h7a3 (ST ROM, -s :leave)" stm32h7a3 0 0x08000000 $W/m64.bin \
    -d 0483:df11 -a 0 -s 0x08000000:leave -D m64.bin
# QMK's DFU_ARGS for Artery and Geehy parts.
side_model "at32f4 (QMK)" at32f4 0 0x08000000 $W/m64.bin \
    -a 0 -d 2E3C:DF11 -s 0x08000000:leave -D m64.bin
side_model "apm32f4 (QMK)" apm32f4 0 0x08000000 $W/m64.bin \
    -d 314B:0106 -a 0 -s 0x08000000:leave -D m64.bin
# esp-idf's `idf.py dfu-flash` (tools/cmake/run_dfu_util.cmake).
side_model "esp32s2 (idf.py dfu-flash)" esp32s2 0 0 $W/m48.bin \
    -d 303a:2 -D dfu.bin
# Zephyr's boards (mcuboot slot 1), the device in runtime mode first.
side_model "zephyr-dfu (runtime, --alt 1)" zephyr-dfu 1 0 $W/m48.bin \
    --alt 1 -d 2fe3:0100 --download m48.bin
# TinyUSB's examples/device/dfu.
side_model "tinyusb-dfu (example)" tinyusb-dfu 0 0 $W/m48.bin \
    -d cafe:400b -a 0 -D m48.bin
# The Openmoko wiki's kernel flash, -R included.
side_model "bogus-poll (Openmoko wiki)" bogus-poll 1 0 $W/m48.bin \
    -d 0x1d50:0x5119 -a kernel -R -D m48.bin

# Issue 26: OpenMV IDE's sequence against the H7 Plus's own bootloader, one board per tool, each
# command as the IDE runs it (openmvplugindfubootloader.cpp): the erase (4096 zero bytes to
# FILESYSTEM), the firmware, a read with -U, then the ROMFS with --reset last. dfuflash must exit
# 0 on every command, the last included (dfu-util 0.11 exits 251 there: the board left on the
# DETACH, so libusb finds nothing to reset); the board must hold what both tools wrote.
head -c 4096 /dev/zero >$W/zero4k.bin
side_openmv() {
    local tool exe rc t codes times where
    for tool in du ours; do
        rm -f $W/o.state $W/o-up-$tool.bin $W/o-$tool.log
        start_gadget openmv-h7p --state $W/o.state || return
        exe=dfu-util; [ $tool = ours ] && exe=$OURS
        codes="" times=""
        for cmd in "-a FILESYSTEM -D zero4k.bin" "-a FIRMWARE -D m64.bin" \
            "-a FIRMWARE -U o-up-$tool.bin" "-a ROMFS0 -D m48.bin --reset"; do
            t=$(now)
            # shellcheck disable=SC2086 # the IDE's words
            (cd $W && timeout 300 $exe -w -d ,37c5:924a $cmd >>$W/o-$tool.log 2>&1); rc=$?
            codes+="$rc " times+="$(elapsed $t)s "
        done
        settle_gadget
        where=stayed; grep -q "usb_gadget: left DFU mode" $W/gadget.log && where=left
        state_bytes $W/o.state 0 0x08020000 4096 $W/o-fs-$tool.bin 2>>$W/o-$tool.log
        state_bytes $W/o.state 0 0x08040000 $(stat -c %s $W/m64.bin) $W/o-fw-$tool.bin 2>>$W/o-$tool.log
        state_bytes $W/o.state 1 0x01800000 $(stat -c %s $W/m48.bin) $W/o-romfs-$tool.bin 2>>$W/o-$tool.log
        local bytes=ok
        cmp -s $W/o-fs-$tool.bin $W/zero4k.bin || bytes="FILESYSTEM wrong"
        cmp -s $W/o-fw-$tool.bin $W/m64.bin || bytes="FIRMWARE wrong"
        cmp -s $W/o-romfs-$tool.bin $W/m48.bin || bytes="ROMFS0 wrong"
        # The -U file: the 0x1c0000-byte partition, then the 4-byte end frame.
        local up=missing
        [ -f $W/o-up-$tool.bin ] && up="$(stat -c %s $W/o-up-$tool.bin) bytes, end $(tail -c 4 $W/o-up-$tool.bin | od -An -tx1 | tr -d ' ')"
        eval "r_$tool='exits ${codes% }, ${times% }, bytes $bytes, -U $up, board $where'"
        cp $W/o-up-$tool.bin $W/o-up-$tool.keep 2>/dev/null
    done
    local line="openmv-h7p (OpenMV IDE: erase, firmware, -U, romfs --reset): dfu-util $r_du; dfuflash $r_ours"
    if [[ "$r_ours" == "exits 0 0 0 0,"*"bytes ok, -U 1835012 bytes, end 00000000, board left" ]] \
        && cmp -s $W/o-up-du.keep $W/o-up-ours.keep; then
        pass "$line; the same -U file"
    else
        fail "$line: $(tail -3 $W/o-ours.log | tr '\r\n' '  ')"
    fi
}
side_openmv

# A DfuSe file of two elements: dfu-util's lines and bars, element by element, from both tools.
python3 - $W <<'PY'
import sys, random
r = random.Random(20)
open(sys.argv[1] + "/el1.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(40000)))
open(sys.argv[1] + "/el2.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(20000)))
PY
$DF pack -o $W/two.dfu 0x08000000:$W/el1.bin 0x08020000:$W/el2.bin >/dev/null 2>&1
marks() { # LOG: the element lines, each bar's start from 0 % and its done line
    python3 - "$1" <<'PY'
import sys
out = open(sys.argv[1], errors="replace").read().replace("\r", "\n").split("\n")
marks = []
for l in out:
    if l.startswith("Parsing element") or l.endswith(" done."):
        marks.append(l)
    elif l.startswith(("Erase", "Download")) and "]   0%" in l:
        marks.append(l.split("\t")[0].strip() + " from 0 %")
# A bar is repainted when a new second starts, at whatever it stands: one start is one mark.
for i, m in enumerate(marks):
    if i == 0 or m != marks[i - 1]:
        print(m)
PY
}
for tool in du ours; do
    rm -f $W/m.state
    start_gadget stm32f405 --state $W/m.state || break
    exe=dfu-util; [ $tool = ours ] && exe=$OURS
    (cd $W && timeout 120 $exe -a 0 -D two.dfu >$W/two-$tool.log 2>&1); eval "rc_$tool=$?"
    stop_gadget
    marks $W/two-$tool.log >$W/two-$tool.marks
done
if [ "$rc_ours" -eq 0 ] && [ "$rc_du" -eq 0 ] && [ -s $W/two-du.marks ] && cmp -s $W/two-du.marks $W/two-ours.marks; then
    pass "drop-in, two DfuSe elements: the same lines and bars as dfu-util, in order ($(grep -c . $W/two-du.marks) marks: $(tr '\n' ';' <$W/two-du.marks | cut -c1-120)...)"
else
    fail "drop-in, two DfuSe elements: dfu-util (exit $rc_du): $(tr '\n' ';' <$W/two-du.marks); dfuflash (exit $rc_ours): $(tr '\n' ';' <$W/two-ours.marks)"
fi
