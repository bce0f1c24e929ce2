#!/bin/sh
# Prints the package version for a build version ($1, as `git describe
# --tags --always --dirty` gives it, or as VERSION= says), valid and
# correctly ordered for both dpkg and rpm:
#   v1.2.3              -> 1.2.3
#   v1.2.3-4-gabc1234   -> 1.2.3+git4.gabc1234   (commits after a tag)
#   v1.2.3-rc1          -> 1.2.3~rc1             (sorts before 1.2.3)
#   abc1234 (no tag)    -> 0.1.0~git57.gabc1234  (on the way to 0.1.0, the
#                          newest version of packaging/changelog; 57
#                          commits in HEAD)
# and -dirty becomes .dirty.
set -eu

v=${1#v}
dirty=
case $v in
*-dirty)
	v=${v%-dirty}
	dirty=.dirty
	;;
esac

# A bare abbreviated hash (no tag yet) may start with a digit: it is told
# from a version by having no dot and only hex digits.
notag=no
case $v in
*.*) ;;
[0-9]*) printf '%s\n' "$v" | grep -Eq '^[0-9a-f]{4,40}$' && notag=yes ;;
esac
[ $notag = yes ] && v=g$v

case $v in
[0-9]*) ;;
*)
	v=${v#g}
	# No tag: a build on the way to the changelog's newest version,
	# ordered by commit count.
	base=$(sed -n '1s/^zonekeeper (\([^)]*\)).*/\1/p' "$(dirname "$0")/changelog")
	n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
	if [ "$v" = dev ] || [ -z "$v" ]; then
		v=$base~git$n
	elif printf '%s\n' "$v" | grep -Eq '^[0-9a-f]{4,40}$'; then
		v=$base~git$n.g$v
	else
		echo "version.sh: cannot make a package version of '$1': give VERSION=1.2.3 or tag the commit" >&2
		exit 1
	fi
	echo "$v$dirty"
	exit 0
	;;
esac

# TAG-N-gHASH, as git describe prints commits after a tag.
v=$(printf '%s\n' "$v" | sed -E 's/-([0-9]+)-(g[0-9a-f]+)$/+git\1.\2/')
# Any other hyphen introduces a pre-release.
v=$(printf '%s\n' "$v" | tr '-' '~')
if ! printf '%s\n' "$v" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$'; then
	echo "version.sh: cannot make a package version of '$1': use digits, letters, . + ~ -" >&2
	exit 1
fi
echo "$v$dirty"
