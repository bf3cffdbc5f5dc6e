#!/usr/bin/env bash
# `qpipe gen` as a Unix filter: deterministic output, the pinned digests of
# each kind, --check and its failures, SIZE suffixes, a closed pipe, and the
# terminal guard for binary data.
source "$(dirname "$0")/lib.sh"

sha() { sha256sum | cut -d' ' -f1; }

# Deterministic: the same seed gives the same bytes, another seed others.
a=$("$QPIPE" gen 64M --seed 3 | sha)
b=$("$QPIPE" gen 64M --seed 3 | sha)
c=$("$QPIPE" gen 64M --seed 4 | sha)
check "gen 64M --seed 3 is the same on two runs" [ "$a" = "$b" ]
check "gen 64M --seed 4 differs from --seed 3" [ "$a" != "$c" ]

# The pinned streams: these digests are a contract with every other version
# of qpipe (man/gen-algorithm.txt). The first MiB of mixed is random data, so
# those two are equal by design.
declare -A PINNED=(
  [random]=850fe68095e99f0624416487470d916b7e435af5e505941d17c91c9f404efc8c
  [zero]=30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58
  [text]=b866e5f14c41bd92f93a27505e3b0aa00204635ca7329ce816b13e40da452347
  [mixed]=850fe68095e99f0624416487470d916b7e435af5e505941d17c91c9f404efc8c
)
for kind in random zero text mixed; do
  got=$("$QPIPE" gen 1M --kind "$kind" --seed 0 | sha)
  check "gen 1M --kind $kind has the pinned sha256 (got $got)" [ "$got" = "${PINNED[$kind]}" ]
done
check "the default kind is random and the default seed 0" \
  [ "$("$QPIPE" gen 1M | sha)" = "${PINNED[random]}" ]

# --check accepts exactly the stream.
"$QPIPE" gen 4M --seed 7 --kind mixed | "$QPIPE" gen --check 4M --seed 7 --kind mixed \
  2>"$TMP/ok.err"
check "--check accepts the right data" [ $? = 0 ]
check "--check is silent on success" [ ! -s "$TMP/ok.err" ]
"$QPIPE" gen 4M --seed 7 | "$QPIPE" gen --check 4M --seed 8 2>/dev/null
check "--check rejects another seed" [ $? = 1 ]
"$QPIPE" gen 0 </dev/null | "$QPIPE" gen --check 0
check "--check accepts an empty stream for SIZE 0" [ $? = 0 ]

# A flipped byte: exit 1 and the message names the offset.
"$QPIPE" gen 1M >"$TMP/flip.bin"
orig=$(od -An -tu1 -j123456 -N1 "$TMP/flip.bin" | tr -d ' ')
printf "\\$(printf '%03o' $((orig ^ 0xff)))" |
  dd of="$TMP/flip.bin" bs=1 seek=123456 conv=notrunc 2>/dev/null
check "the test file is still 1 MiB" [ "$(wc -c <"$TMP/flip.bin")" = 1048576 ]
"$QPIPE" gen --check 1M <"$TMP/flip.bin" >"$TMP/flip.out" 2>"$TMP/flip.err"
check "flipped byte: exit 1" [ $? = 1 ]
check "flipped byte: the message names offset 123456" grep -q "offset 123456" "$TMP/flip.err"
check "flipped byte: nothing on stdout" [ ! -s "$TMP/flip.out" ]

# A short and a long stream.
"$QPIPE" gen 1M | head -c 1000000 | "$QPIPE" gen --check 1M 2>"$TMP/short.err"
check "short stream: exit 1" [ $? = 1 ]
check "short stream: says shorter" grep -q "shorter" "$TMP/short.err"
"$QPIPE" gen --check 1M </dev/null 2>"$TMP/empty.err"
check "empty stream: exit 1" [ $? = 1 ]
check "empty stream: says shorter" grep -q "shorter" "$TMP/empty.err"
{ "$QPIPE" gen 1M; printf x; } | "$QPIPE" gen --check 1M 2>"$TMP/long.err"
check "long stream: exit 1" [ $? = 1 ]
check "long stream: says longer" grep -q "longer" "$TMP/long.err"
"$QPIPE" gen 2M | "$QPIPE" gen --check 1M 2>/dev/null
check "a longer stream of the right data: exit 1" [ $? = 1 ]

# The bytes arrive intact through a pipe directly, through a copying reader
# (cat), through readers that move pages on with splice(2) (pv), through a
# reader that starts after gen exited, and through a file.
for kind in random text mixed zero; do
  "$QPIPE" gen 64M --kind "$kind" --seed 9 | "$QPIPE" gen --check 64M --kind "$kind" --seed 9
  check "gen 64M --kind $kind | gen --check: a pipe" [ $? = 0 ]
done
"$QPIPE" gen 256M --seed 2 | cat | "$QPIPE" gen --check 256M --seed 2
check "gen 256M | cat | gen --check" [ $? = 0 ]
if command -v pv >/dev/null; then
  "$QPIPE" gen 256M --seed 2 | pv -q | pv -q | "$QPIPE" gen --check 256M --seed 2
  check "gen 256M | pv | pv | gen --check (pages spliced on)" [ $? = 0 ]
else
  echo "ok - gen | pv | pv | gen --check # SKIP pv is not installed"
fi
# A pipe gets its data by reference (vmsplice of fresh huge pages, 2 MiB
# blocks): a last block that is not whole, and a stdout pipe left
# non-blocking by whoever made it (EAGAIN is waited out, not an error).
"$QPIPE" gen 5242883 --seed 6 --kind mixed | "$QPIPE" gen --check 5242883 --seed 6 --kind mixed
check "gen 5 MiB + 3 bytes | gen --check (a partial last block)" [ $? = 0 ]
python3 - "$QPIPE" <<'PY' >"$TMP/nonblock.out" 2>&1
import fcntl, os, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
gen = subprocess.Popen([sys.argv[1], "gen", "64M", "--seed", "5"], stdout=w)
os.close(w)
check = subprocess.run([sys.argv[1], "gen", "--check", "64M", "--seed", "5"], stdin=r)
print(gen.wait(), check.returncode)
PY
check "gen 64M into a non-blocking pipe | gen --check: both exit 0" [ "$(cat "$TMP/nonblock.out")" = "0 0" ]
# The reader starts after gen has exited: the pipe still holds gen's pages.
for size in 10 5000 700K; do
  got=$("$QPIPE" gen "$size" --kind text | { sleep 0.3; cat; } | sha)
  "$QPIPE" gen "$size" --kind text >"$TMP/late.bin" # a file: written with write(2)
  want=$(sha <"$TMP/late.bin")
  check "gen $size | (sleep; read): intact after gen exited" [ "$got" = "$want" ]
  "$QPIPE" gen "$size" | { sleep 0.3; cat; } | "$QPIPE" gen --check "$size"
  check "gen $size | (sleep; read) | gen --check" [ $? = 0 ]
done
"$QPIPE" gen 64M --seed 2 >"$TMP/file.bin"
"$QPIPE" gen --check 64M --seed 2 <"$TMP/file.bin"
check "gen 64M > file; gen --check < file" [ $? = 0 ]
rm -f "$TMP/file.bin"

# SIZE suffixes: K, M, G are powers of 1024, KB, MB powers of 1000.
for case in 1K=1024 1KB=1000 1KiB=1024 1k=1024 2M=2097152 1MB=1000000 1MiB=1048576 \
  0=0 10=10 10B=10 0K=0; do
  size=${case%=*} want=${case#*=}
  got=$("$QPIPE" gen "$size" | wc -c)
  check "gen $size writes $want bytes (got $got)" [ "$got" = "$want" ]
done
got=$("$QPIPE" gen 3M --kind text | wc -c)
check "gen 3M --kind text writes 3 MiB (got $got)" [ "$got" = 3145728 ]
"$QPIPE" gen 1Q >/dev/null 2>&1
check "gen 1Q: a usage error" [ $? = 2 ]

# A reader that stops early is not an error: `gen 1G | head` exits 0 at once.
timeout 60 "$QPIPE" gen 1G 2>"$TMP/head.err" | head -c 10 >"$TMP/head.out"
status=("${PIPESTATUS[@]}")
check "gen 1G | head -c 10: gen exits 0 (got ${status[0]})" [ "${status[0]}" = 0 ]
check "gen 1G | head -c 10: head got 10 bytes" [ "$(wc -c <"$TMP/head.out")" = 10 ]
check "gen 1G | head -c 10: no error message" [ ! -s "$TMP/head.err" ]

# Binary data to a terminal is refused, text and -f are written.
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "$QPIPE gen 10" /dev/null >"$TMP/tty.out" 2>&1
  rc=$?
  check "binary to a terminal: exit 2 (got $rc)" [ $rc = 2 ]
  check "binary to a terminal: the message names -f" grep -q -- "-f" "$TMP/tty.out"
  for kind in zero mixed; do
    script -qec "$QPIPE gen 10 --kind $kind" /dev/null >/dev/null 2>&1
    check "--kind $kind to a terminal: exit 2" [ $? = 2 ]
  done
  script -qec "$QPIPE gen 10 -f" /dev/null >/dev/null 2>&1
  check "binary to a terminal with -f: exit 0" [ $? = 0 ]
  script -qec "$QPIPE gen 100 --kind text" /dev/null >"$TMP/text.out" 2>&1
  check "text to a terminal: exit 0" [ $? = 0 ]
  check "text to a terminal: the text is written" \
    grep -q "^$("$QPIPE" gen 10 --kind text)" "$TMP/text.out"
else
  echo "ok - binary to a terminal is refused # SKIP util-linux script is not installed"
fi

# The text kind compresses like prose.
if command -v zstd >/dev/null; then
  raw=$((4 * 1024 * 1024))
  packed=$("$QPIPE" gen 4M --kind text | zstd -3 -c -q | wc -c)
  ratio=$(awk -v r="$raw" -v p="$packed" 'BEGIN { printf "%.2f", r / p }')
  check "--kind text compresses 3-5x with zstd -3 (got $ratio)" \
    awk -v x="$ratio" 'BEGIN { exit !(x >= 3 && x <= 5) }'
  packed=$("$QPIPE" gen 4M | zstd -3 -c -q | wc -c)
  check "--kind random does not compress" [ "$packed" -ge "$raw" ]
else
  echo "ok - --kind text compresses 3-5x # SKIP zstd is not installed"
fi

finish
