# %pre of the zonekeeper .rpm ($1: 1 install, 2 upgrade): the system user
# and group, before the files they own are laid down.
getent group zonekeeper >/dev/null || groupadd -r zonekeeper
getent group zonekeeper-admin >/dev/null || groupadd -r zonekeeper-admin
getent passwd zonekeeper >/dev/null ||
	useradd -r -g zonekeeper -d /var/lib/zonekeeper -M -s /sbin/nologin \
		-c "zonekeeper DNS server" zonekeeper
exit 0
