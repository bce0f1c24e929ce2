function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   if qtype == pdns.HINFO then
      resp = {}
      resp[1] = { qname = qname, qtype = pdns.TXT, ttl = 99, content = "Hello Ahu!" }
      return 0, resp
   end
   if qtype == pdns.TXT and string.starts(qname, "_tstamp.") then
      resp = {}
      resp[1] = { qname = qname, qtype = qtype, ttl = ttl, content = os.date("Ver %Y%m%d-%H:%M") }
      return 0, resp
   end
   resp = {}
   return pdns.PASS, resp
end

function string.starts(s, start)
   return s.sub(s, 1, s.len(start)) == start
end
