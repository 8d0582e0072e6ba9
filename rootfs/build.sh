#!/usr/bin/env bash
# Builds minictr's default root filesystem from Debian's busybox-static package: one static binary, a link for each
# of its applets (sh, ip, ping, wget, nc, httpd, ps, ...), the few files in /etc that programs look for, and a demo
# page for httpd. No binary is committed: the package is downloaded with apt and unpacked with dpkg-deb.
#
# Usage: rootfs/build.sh [--force] [OUTPUT_DIR]     (default output: rootfs/image, skipped when already built)
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/image}

if [ "$force" = 0 ] && [ -f "$out/.minictr-rootfs" ]; then
  echo "rootfs: $out is already built (--force rebuilds it)" >&2
  exit 0
fi

if [ -e "$out" ] && [ ! -f "$out/.minictr-rootfs" ] && [ "$force" = 0 ]; then
  echo "rootfs: $out exists and was not built by this script; refusing to replace it (--force does)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Fetch and unpack the package. apt needs its package lists: refresh them once if the download fails.
(cd "$work" && { apt-get download busybox-static >/dev/null 2>&1 || { apt-get update -qq && apt-get download busybox-static; }; })
dpkg-deb -x "$work"/busybox-static_*.deb "$work/pkg"

# 2. The tree: the binary and one symlink per applet, at the path busybox itself lists for it.
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,www,var/log,run,home}
chmod 1777 "$root/tmp"
install -m 0755 "$work/pkg/bin/busybox" "$root/bin/busybox"
"$root/bin/busybox" --list-full | while read -r applet; do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# 3. Identity files programs expect, and a page for `httpd -h /www`.
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
nogroup:x:65534:
GROUP
echo "root:*:0:0:99999:7:::" > "$root/etc/shadow"
chmod 0600 "$root/etc/shadow"
cat > "$root/www/index.html" <<'HTML'
<!doctype html>
<title>minictr</title>
<h1>Hello from a minictr container</h1>
<p>Served by busybox httpd from the default rootfs.</p>
HTML
echo "busybox-static $("$root/bin/busybox" | head -1)" > "$root/.minictr-rootfs"

# 4. Swap the finished tree into place, so an interrupted build never leaves a half-built rootfs behind.
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$root" "$out"
echo "rootfs: built $out" >&2
