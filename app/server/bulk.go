package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/scimforge/scimforge/scim/bulk"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// bulkHandler serves POST /Bulk (RFC 7644 §3.7): it reads the body within
// maxPayloadSize (the edge limits this route to the same size) and hands it
// to the processor, which runs every operation through the engine.
func bulkHandler(p *bulk.Processor, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		max := p.Limits().MaxPayloadSize
		if r.ContentLength > max {
			scimerr.Write(w, p.TooLarge())
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		var mb *http.MaxBytesError
		switch {
		case errors.As(err, &mb), err == nil && int64(len(body)) > max:
			scimerr.Write(w, p.TooLarge())
			return
		case err != nil:
			scimerr.Write(w, scimerr.FromJSON(err))
			return
		}
		resp, err := p.Process(r.Context(), body)
		if err != nil {
			e := scimerr.As(err)
			if e == nil {
				log.Error("bulk request failed", "err", err)
				e = scimerr.Internal()
			}
			scimerr.Write(w, e)
			return
		}
		out, err := json.Marshal(resp)
		if err != nil {
			log.Error("bulk response", "err", err)
			scimerr.Write(w, scimerr.Internal())
			return
		}
		w.Header().Set("Content-Type", scimerr.ContentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}
}

// bulkUnsupported answers POST /Bulk when the ServiceProviderConfig says
// bulk is not supported (RFC 7644 §3.12: 501).
func bulkUnsupported(w http.ResponseWriter, r *http.Request) {
	scimerr.Write(w, scimerr.New(http.StatusNotImplemented, "", "bulk operations are not supported (bulk.supported is false in /ServiceProviderConfig)"))
}
