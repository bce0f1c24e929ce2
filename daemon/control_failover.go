package daemon

import (
	"errors"
	"net/http"
	"time"

	"zonekeeper/daemon/api"
)

// The control API of failover: promote, demote and set-serial
// (promote.go, setserial.go hold the procedures).

func (d *Daemon) handlePromote(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	var req api.PromoteRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.From != "" {
		return nil, api.Errorf(api.CodeBadRequest, "from goes with promoting every zone (POST /v1/promote), not zone %s", name)
	}
	res, err := d.promote(r.Context(), &guardRun{}, name, req.Force)
	if err != nil {
		// Failures and the guard's refusals are events; a request that
		// does not fit the zone (not a secondary here) is not.
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code == api.CodeInternal || isRefusal(err) {
			d.events.Emit(api.Event{Zone: name, Kind: "promote", Outcome: api.OutcomeError, Detail: "not promoted: " + err.Error()})
		}
		return nil, err
	}
	return &api.PromoteResult{Zones: []api.Promoted{res}}, nil
}

func (d *Daemon) handlePromoteAll(r *http.Request) (any, error) {
	var req api.PromoteRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return d.promoteAll(r.Context(), req.From, req.Force)
}

func (d *Daemon) handleDemote(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	var req api.DemoteRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Primaries) == 0 {
		return nil, api.Errorf(api.CodeBadRequest, "zone %s: give the new primary with --primary ADDR", name)
	}
	if req.TSIGKey != "" {
		if req.TSIGKey, err = d.existingKey(r, req.TSIGKey); err != nil {
			return nil, err
		}
	}
	res, err := d.demote(r.Context(), name, req.Primaries, req.TSIGKey, req.Force)
	if isRefusal(err) {
		d.events.Emit(api.Event{Zone: name, Kind: "demote", Outcome: api.OutcomeError, Detail: "not demoted: " + err.Error()})
	}
	return res, err
}

// handleSetSerial is POST /v1/zones/{name}/set-serial: plan the steps,
// and unless a dry run, carry them out, waiting after each step of a
// decrease for every NOTIFY target of the zone to serve it.
func (d *Daemon) handleSetSerial(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	var req api.SetSerialRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.TimeoutSeconds < 0 {
		return nil, api.Errorf(api.CodeBadRequest, "timeout %gs is negative", req.TimeoutSeconds)
	}
	timeout := setSerialDefaultTimeout
	if req.TimeoutSeconds > 0 {
		timeout = time.Duration(req.TimeoutSeconds * float64(time.Second))
	}
	z, _, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	if z.Kind == api.KindSecondary {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is a secondary: set its serial on its primary", name)
	}
	return d.setSerial(r.Context(), name, req.Serial, req.DryRun, timeout)
}
