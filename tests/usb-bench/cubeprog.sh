# Issue 25: the STM32_Programmer_CLI drop-in on its callers' own lines, through the real kernel
# (sourced by guest.sh after models.sh, whose state_bytes it uses). There is no ST programmer to
# run beside it: each case checks the bytes the board holds afterwards, from the gadget's state.
mkdir -p $W/st && ln -sf $DF $W/st/STM32_Programmer_CLI && ln -sf $DF $W/st/STM32_Programmer.sh
N6_LAYOUT=$TOP/target/release/examples/n6_layout

# STATE OFFSET LEN OUT: the bytes at OFFSET of the N6's external NOR in a state file (0xFF where
# no sector was written).
nor_bytes() {
    python3 - "$@" <<'PY'
import sys
path, off, n, out = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3]), sys.argv[4]
d, nor, i = open(path, "rb").read(), {}, 0
while (j := d.find(b"\nnor 0x", i)) >= 0:
    head_end = d.index(b"\n", j + 1)
    _, at, size = d[j + 1:head_end].decode().split()
    nor[int(at, 16)] = d[head_end + 1:head_end + 1 + int(size)]
    i = head_end + 1 + int(size)
got = bytearray(b"\xff" * n)
for at, body in nor.items():
    for k in range(max(at, off), min(at + len(body), off + n)):
        got[k - off] = body[k - at]
open(out, "wb").write(bytes(got))
PY
}

# OpenMV IDE's N6 recovery: `STM32_Programmer_CLI -c port=USB1 -d <dir>/FlashLayout.tsv`, success
# is exit 0. The ROM takes the OpenBootloader, re-enumerates as it, and it writes the NOR.
$N6_LAYOUT $W/n6 >/dev/null
rm -f $W/n6.state
if start_gadget stm32n6 --state $W/n6.state; then
    t=$(now)
    (cd $W && timeout 300 $W/st/STM32_Programmer_CLI -c port=USB1 -d $W/n6/FlashLayout.tsv >$W/n6-cli.log 2>&1); rc=$?
    te=$(elapsed $t)
    stop_gadget
    len=$(stat -c %s $W/n6/bootloader.bin)
    nor_bytes $W/n6.state 0 $((len + 1)) $W/n6-nor.bin
    head -c $len $W/n6-nor.bin >$W/n6-nor-app.bin
    if [ $rc -eq 0 ] && cmp -s $W/n6-nor-app.bin $W/n6/bootloader.bin \
        && [ "$(tail -c 1 $W/n6-nor.bin | od -An -tx1 | tr -d ' ')" = ff ]; then
        pass "cubeprog OpenMV IDE N6 line (-c port=USB1 -d FlashLayout.tsv): exit 0, the NOR holds bootloader.bin ($len bytes) and nothing past it ($te s)"
    else
        fail "cubeprog OpenMV IDE N6 line: rc=$rc $(tail -3 $W/n6-cli.log | tr '\r\n' '  ')"
    fi
fi
# The same layout through `dfuflash flash-layout --json`: the phase sequence the board asked for.
rm -f $W/n6.state
if start_gadget stm32n6 --state $W/n6.state; then
    t=$(now)
    timeout 300 $DF flash-layout -p 1-1 --json $W/n6/FlashLayout.tsv >$W/n6.json 2>$W/n6.err; rc=$?
    te=$(elapsed $t)
    stop_gadget
    phases=$(json $W/n6.json "' '.join('%02x' % p for p in d['phases'])" 2>/dev/null)
    if [ $rc -eq 0 ] && [ "$phases" = "01 00 00 00 03 03 04 04 fe" ] \
        && [ "$(json $W/n6.json "d['reenumerations']")" = 1 ]; then
        pass "flash-layout on the N6 gadget: phases $phases, followed across 1 re-enumeration ($te s)"
    else
        fail "flash-layout on the N6 gadget: rc=$rc phases '$phases' $(tail -3 $W/n6.err | tr '\r\n' '  ')"
    fi
fi

# STM32duino's upload lines against ST ROM models: the sketch at 0x08000000, then the board
# started (it leaves DFU mode: the gadget says so).
head -c 100000 $W/big.bin >$W/sketch-st.bin
duino() { # NAME MODEL TOOL ARGS...
    local name=$1 model=$2 tool=$3; shift 3
    rm -f $W/duino.state
    start_gadget $model --state $W/duino.state || return
    local t rc te
    t=$(now)
    (cd $W && timeout 300 $W/st/$tool "$@" >$W/duino.log 2>&1); rc=$?
    te=$(elapsed $t)
    settle_gadget
    state_bytes $W/duino.state 0 0x08000000 100000 $W/duino.bin 2>>$W/duino.log
    if [ $rc -eq 0 ] && cmp -s $W/duino.bin $W/sketch-st.bin && grep -q "File download complete" $W/duino.log \
        && grep -q "usb_gadget: left DFU mode for 0x08000000" $W/gadget.log; then
        pass "cubeprog STM32duino $name on $model: exit 0, 100000 bytes at 0x08000000, board started ($te s)"
    else
        fail "cubeprog STM32duino $name on $model: rc=$rc $(tail -3 $W/duino.log | tr '\r\n' '  ') $(tail -1 $W/gadget.log)"
    fi
}
duino "current line" stm32f405 STM32_Programmer.sh --connect port=usb1 VID=0x0483 PID=0xdf11 "" \
    --quietMode --download sketch-st.bin 0x8000000 --start 0x8000000
duino "current line with --erase all" stm32h743-revv STM32_Programmer.sh --connect port=usb1 \
    VID=0x0483 PID=0xdf11 "--erase all" --quietMode --download sketch-st.bin 0x8000000 --start 0x8000000
duino "older line" stm32f405 STM32_Programmer_CLI -c port=USB1 -e all -q -d sketch-st.bin 0x8000000 -s
