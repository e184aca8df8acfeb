package feedback

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
)

type fakeRecorder struct{ got []Verdict }

func (f *fakeRecorder) Label(_ context.Context, v Verdict) (*codecs.Feedback, error) {
	if _, _, err := ParseID(v.ID); err != nil {
		return nil, err
	}
	if !codecs.ValidVerdict(v.Verdict) {
		return nil, fmt.Errorf("%w %q", ErrBadVerdict, v.Verdict)
	}
	if strings.HasPrefix(v.ID, "10.9.") {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, v.ID)
	}
	if strings.HasPrefix(v.ID, "10.8.") {
		return nil, fmt.Errorf("broker down")
	}
	f.got = append(f.got, v)
	host, start, _ := ParseID(v.ID)
	return &codecs.Feedback{ID: v.ID, Host: host, WindowStart: start, Verdict: v.Verdict}, nil
}

func TestHandler(t *testing.T) {
	rec := &fakeRecorder{}
	srv := httptest.NewServer(Handler(rec, "s3cret", nil))
	defer srv.Close()
	post := func(token, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/feedback", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var sb strings.Builder
		_, _ = fmt.Fprint(&sb, resp.Header.Get("Content-Type"))
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		return resp.StatusCode, string(buf[:n])
	}
	ok := `{"id":"10.1.0.17@1772443270000","verdict":"false-positive","note":"scanner","by":"alice"}`
	for _, c := range []struct {
		name, token, body string
		code              int
		in                string
	}{
		{"no token", "", ok, http.StatusUnauthorized, "bearer"},
		{"wrong token", "s3cre", ok, http.StatusUnauthorized, "bearer"},
		{"bad json", "s3cret", `{"id":`, http.StatusBadRequest, "body"},
		{"unknown field", "s3cret", `{"id":"10.1.0.17@1","verdict":"false-positive","score":1}`, http.StatusBadRequest, "unknown field"},
		{"bad verdict", "s3cret", `{"id":"10.1.0.17@1","verdict":"maybe"}`, http.StatusBadRequest, "verdict"},
		{"bad id", "s3cret", `{"id":"nohost","verdict":"true-positive"}`, http.StatusBadRequest, "id"},
		{"not found", "s3cret", `{"id":"10.9.0.1@1","verdict":"true-positive"}`, http.StatusNotFound, "not found"},
		{"kafka down", "s3cret", `{"id":"10.8.0.1@1","verdict":"true-positive"}`, http.StatusBadGateway, "broker down"},
		{"ok", "s3cret", ok, http.StatusAccepted, `"window_start":"2026-03-02T09:21:10.000000000Z"`},
	} {
		code, body := post(c.token, c.body)
		if code != c.code || !strings.Contains(body, c.in) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, code, body, c.code, c.in)
		}
	}
	if len(rec.got) != 1 || rec.got[0].Note != "scanner" || rec.got[0].By != "alice" {
		t.Errorf("recorded %+v", rec.got)
	}
}
