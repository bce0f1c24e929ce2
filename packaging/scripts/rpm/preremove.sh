# %preun of the zonekeeper .rpm ($1: 0 erase, 1 upgrade), as the
# %systemd_preun macro does: stop and disable only when the package goes.
if [ "$1" -eq 0 ]; then
	systemctl --no-reload disable --now zonekeeper.service >/dev/null 2>&1 || :
fi
exit 0
