package feedback

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/riptide-nids/riptide/codecs"
)

// Recorder records a verdict; *Labeler is one.
type Recorder interface {
	Label(ctx context.Context, v Verdict) (*codecs.Feedback, error)
}

// maxBody bounds a request body.
const maxBody = 64 << 10

// Handler serves POST /v1/feedback: a JSON Verdict ({"id", "verdict",
// "note", "by"}) authorised by "Authorization: Bearer <token>". Answers:
// 202 with {"id", "verdict", "window_start"} when the verdict is written;
// 401 without the right token; 400 for a bad body, id or verdict; 404 when
// the window is not on the features topic; 502 when Kafka fails. Errors are
// JSON {"error": "..."}. token must not be empty. log (may be nil) gets
// one line per verdict and every Kafka error; the token is never logged.
func Handler(rec Recorder, token string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/feedback", func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="riptide"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
			return
		}
		var v Verdict
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: want JSON {\"id\", \"verdict\", \"note\", \"by\"}: " + err.Error()})
			return
		}
		f, err := rec.Label(r.Context(), v)
		switch {
		case errors.Is(err, ErrBadID), errors.Is(err, ErrBadVerdict):
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		case errors.Is(err, ErrNotFound):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		case err != nil:
			log.Error("feedback: recording a verdict failed", "id", v.ID, "err", err)
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		log.Info("feedback: verdict", "id", f.ID, "verdict", f.Verdict, "by", f.By)
		writeJSON(w, http.StatusAccepted, map[string]string{"id": f.ID, "verdict": f.Verdict, "window_start": f.WindowStart.Format(codecs.TimeFormat)})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
