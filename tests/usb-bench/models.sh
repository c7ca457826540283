# Issue 19: each model beside dfu-util 0.11, on the command line its community documents
# (sourced by guest.sh, which defines $W, $OURS, start_gadget, settle_gadget, pass, fail, now
# and elapsed). Both tools run the same line against a fresh board; the bytes are taken from
# the gadget's state file, so a device that cannot upload is checked too. dfuflash must exit 0
# with the image in place; what dfu-util does is reported, whatever it is.

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
        else verdict="wrong bytes (exit $rc)"; fi
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

# PlatformIO's platform-gd32v (dfu upload protocol).
side_model "gd32vf103 (PlatformIO)" gd32vf103 0 0x08000000 $W/m64.bin \
    -d 28e9:0189 -a 0 --dfuse-address 0x08000000:leave -D m64.bin
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
