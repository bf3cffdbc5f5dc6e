#!/usr/bin/env bash
# Every C++ file git tracks is as clang-format (with the committed
# .clang-format) leaves it; fix with `clang-format -i FILE`.
source "$(dirname "$0")/lib.sh"
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v clang-format >/dev/null; then
  echo "SKIP: clang-format is not installed"
  exit 77
fi
if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  echo "SKIP: $src is not a git checkout"
  exit 77
fi
bad=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$src/$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git -C "$src" ls-files '*.cc' '*.h')
check "every C++ file is clang-formatted (not: ${bad[*]:-none})" [ ${#bad[@]} = 0 ]
finish
