#!/usr/bin/env bash
# The man page and the completions are generated from the option table and
# committed; this test fails when the committed files drift from what
# qpipe-docgen makes now, when the man page has warnings, or when a
# completion script does not parse.
source "$(dirname "$0")/lib.sh"
: "${QPIPE_DOCGEN:?set QPIPE_DOCGEN (ctest does)}"
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
src=$(cd "$src" && pwd) # absolute: the completion tests change directory

"$QPIPE_DOCGEN" man "$src/man/qpipe.1.in" > "$TMP/qpipe.1"
check "man/qpipe.1 is up to date (run scripts/gen-docs)" diff -u "$src/man/qpipe.1" "$TMP/qpipe.1"
for shell in bash zsh fish; do
  case $shell in bash) f=qpipe.bash ;; zsh) f=_qpipe ;; fish) f=qpipe.fish ;; esac
  "$QPIPE_DOCGEN" $shell > "$TMP/$f"
  check "completions/$f is up to date (run scripts/gen-docs)" diff -u "$src/completions/$f" "$TMP/$f"
done

if command -v man >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$src/man/qpipe.1" 2>&1 >/dev/null)
  check "man --warnings is silent" [ -z "$warnings" ]
  [ -z "$warnings" ] || echo "$warnings" | head
else
  echo "ok - man --warnings # SKIP man is not installed"
fi
check "bash completion parses" bash -n "$src/completions/qpipe.bash"
check "bash completion completes --stre to --streams" bash -c "
  source '$src/completions/qpipe.bash'
  COMP_WORDS=(qpipe --stre); COMP_CWORD=1; _qpipe
  [[ \" \${COMPREPLY[*]} \" == *' --streams '* ]]"
# bash completes file names after -o, directories with their slash, and the
# values of --stats=, whether '=' splits the word (the default) or not.
mkdir -p "$TMP/cwd/cdir"
complete_to() { # complete_to EXPECTED WORD...: COMPREPLY for the last WORD
  local want=$1
  shift
  bash -c "cd '$TMP/cwd' && source '$src/completions/qpipe.bash'
    COMP_WORDS=(\"\$@\"); COMP_CWORD=\$((\$# - 1)); _qpipe
    [[ \"\${COMPREPLY[*]}\" == '$want' ]] || { echo \"got: \${COMPREPLY[*]}\"; exit 1; }" _ "$@"
}
check "bash completion: -o cd completes to the directory cdir/" complete_to "cdir/" qpipe -l -o cd
check "bash completion: --output cd too" complete_to "cdir/" qpipe -l --output cd
check "bash completion: a FILE argument too" complete_to "cdir/" qpipe host cd
check "bash completion: --stats= offers text and json" complete_to "text json" qpipe host --stats =
check "bash completion: --stats=j completes (= in its own word)" complete_to "json" qpipe --stats = j
check "bash completion: --stats=j completes (one word)" complete_to "--stats=json" qpipe --stats=j

# The man page's SYNOPSIS is --help's usage, ENVIRONMENT names every variable
# qpipe reads, EXAMPLES send files by name.
if command -v man >/dev/null; then
  LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$src/man/qpipe.1" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g' >"$TMP/man.txt"
  sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$TMP/man.txt" | sed -n 's/^ *\(qpipe.*[^ ]\) *$/\1/p' >"$TMP/synopsis.man"
  "$QPIPE" --help | sed -n '/^Usage:/,/^$/p' | sed 's/^Usage: //; s/^ *//; s/   .*//' | sed '/^$/d' >"$TMP/synopsis.help"
  check "man SYNOPSIS is --help's usage (qpipe HOST[:PORT] [FILE...] ...)" diff -u "$TMP/synopsis.help" "$TMP/synopsis.man"
  check "man SYNOPSIS shows [FILE...]" grep -qF 'qpipe [OPTIONS] HOST[:PORT] [FILE...]' "$TMP/synopsis.man"
  sed -n '/^ENVIRONMENT/,/^EXAMPLES/p' "$TMP/man.txt" >"$TMP/env.txt"
  for var in QPIPE_SECRET QPIPE_API_TOKEN XDG_CONFIG_HOME XDG_DATA_HOME; do
    check "man ENVIRONMENT lists $var" grep -q "$var" "$TMP/env.txt"
  done
  check "man EXAMPLES sends files by name" \
    bash -c "sed -n '/^EXAMPLES/,/^SEE ALSO/p' '$TMP/man.txt' | grep -q 'qpipe host db.dump notes.txt'"
else
  echo "ok - man SYNOPSIS, ENVIRONMENT, EXAMPLES # SKIP man is not installed"
fi
# Host aliases of the config file are offered where a send's HOST goes.
mkdir -p "$TMP/cc/qpipe"
printf 'Host backup b2\n  Port 5000\nHost *.lan !x\n' > "$TMP/cc/qpipe/config"
printf 'Host other\n' > "$TMP/other.conf"
check "bash completion offers the config file's aliases for HOST" env XDG_CONFIG_HOME="$TMP/cc" bash -c "
  source '$src/completions/qpipe.bash'
  COMP_WORDS=(qpipe -z -P 4 b); COMP_CWORD=4; _qpipe
  [[ \" \${COMPREPLY[*]} \" == *' backup '* && \" \${COMPREPLY[*]} \" == *' b2 '* ]] || exit 1
  COMP_WORDS=(qpipe -l b); COMP_CWORD=2; _qpipe
  [[ \" \${COMPREPLY[*]} \" != *' backup '* ]] || exit 1
  COMP_WORDS=(qpipe -F '$TMP/other.conf' o); COMP_CWORD=3; _qpipe
  [[ \" \${COMPREPLY[*]} \" == *' other '* ]]"
if command -v fish >/dev/null; then
  check "fish completion offers the config file's aliases" env XDG_CONFIG_HOME="$TMP/cc" fish -c "
    source '$src/completions/qpipe.fish'; complete -C 'qpipe ba' | string match -q -r '^backup\t'"
else echo "ok - fish completion offers aliases # SKIP fish is not installed"; fi
if command -v zsh >/dev/null; then check "zsh completion parses" zsh -n "$src/completions/_qpipe"
else echo "ok - zsh completion parses # SKIP zsh is not installed"; fi
if command -v fish >/dev/null; then check "fish completion parses" fish -n "$src/completions/qpipe.fish"
else echo "ok - fish completion parses # SKIP fish is not installed"; fi

# Every option of --help is in the man page.
missing=""
for opt in $("$QPIPE" --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
  grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" "$src/man/qpipe.1" || missing="$missing $opt"
done
check "every --help option is in the man page${missing:+ (missing:$missing)}" [ -z "$missing" ]
finish
