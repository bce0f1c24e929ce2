function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   os.execute("touch /tmp/zonekeeper-lua-escaped")
   return pdns.PASS, {}
end
