package answer

// QueryStats counts the queries a Server answered, by the path that
// answered them. Messages dropped without a reply are not counted.
type QueryStats struct {
	Fast    uint64 // replies copied from the ready-answer cache
	Full    uint64 // replies made by lookup and packing, and bare FORMERR/NOTIMP replies
	Special uint64 // messages handed to the slow path (NOTIFY, TSIG, transfers, EDNS EXPIRE)
}
