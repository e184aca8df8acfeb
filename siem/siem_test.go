package siem_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/siem"
)

var update = flag.Bool("update", false, "rewrite the golden examples in testdata/")

// schemaPath is the OCSF 1.8.0 Detection Finding as JSON Schema (draft
// 2020-12, every referenced object embedded); testdata/ocsf/SOURCE.md says
// where it came from.
const schemaPath = "testdata/ocsf/detection_finding-1.8.0.schema.json"

func ocsfSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("detection_finding.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("detection_finding.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func golden(t *testing.T) *codecs.Anomaly {
	t.Helper()
	b, err := os.ReadFile("../codecs/testdata/anomaly-v1.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := codecs.DecodeAnomaly(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func validate(t *testing.T, s *jsonschema.Schema, b []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("OCSF output does not validate against the Detection Finding schema: %v\n%s", err, b)
	}
}

func incident(act siem.Activity) siem.Incident {
	t0 := time.Date(2026, 3, 2, 9, 21, 0, 0, time.UTC)
	return siem.Incident{
		ID: "10.1.0.17@1772443260000", Activity: act, Severity: siem.SeverityCritical, Windows: 4,
		FirstStart: t0, LastEnd: t0.Add(40 * time.Second), Time: t0.Add(2 * time.Minute),
		Reason: "no anomaly for 6 windows of event time",
	}
}

func TestOCSFValidatesAgainstSchema(t *testing.T) {
	s := ocsfSchema(t)
	a := golden(t)
	cases := map[string]siem.Options{
		"alone":   {ProductVersion: "v1.2.3"},
		"trigger": {Incident: incident(siem.ActivityCreate)},
		"update":  {Incident: incident(siem.ActivityUpdate)},
		"resolve": {Incident: incident(siem.ActivityClose)},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := siem.Encode(siem.FormatOCSF, a, o)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, s, b)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["class_uid"] != 2004.0 || m["category_uid"] != 2.0 {
				t.Errorf("class_uid %v category_uid %v, want 2004 and 2", m["class_uid"], m["category_uid"])
			}
			act := 1.0
			switch name {
			case "update":
				act = 2
			case "resolve":
				act = 3
			}
			if m["activity_id"] != act || m["type_uid"] != 200400+act {
				t.Errorf("activity_id %v type_uid %v, want %v and %v", m["activity_id"], m["type_uid"], act, 200400+act)
			}
			fi, _ := m["finding_info"].(map[string]any)
			wantUID := a.ID
			if o.Incident.ID != "" {
				wantUID = o.Incident.ID
			}
			if fi["uid"] != wantUID {
				t.Errorf("finding_info.uid = %v, want %v", fi["uid"], wantUID)
			}
		})
	}
}

// TestOCSFSchemaRejectsBrokenFindings makes sure the validation has teeth:
// the schema rejects findings missing a required attribute or with an
// attribute of the wrong type.
func TestOCSFSchemaRejectsBrokenFindings(t *testing.T) {
	s := ocsfSchema(t)
	b, err := siem.Encode(siem.FormatOCSF, golden(t), siem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, mutate := range []struct {
		name string
		f    func(map[string]any)
	}{
		{"no metadata", func(m map[string]any) { delete(m, "metadata") }},
		{"no finding_info.uid", func(m map[string]any) { delete(m["finding_info"].(map[string]any), "uid") }},
		{"time as text", func(m map[string]any) { m["time"] = "yesterday" }},
		{"unknown attribute", func(m map[string]any) { m["riptide_score"] = 1 }},
		{"bad severity_id", func(m map[string]any) { m["severity_id"] = 42 }},
	} {
		t.Run(mutate.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			mutate.f(m)
			bad, _ := json.Marshal(m)
			v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
			if err := s.Validate(v); err == nil {
				t.Errorf("schema accepted a broken finding: %s", bad)
			}
		})
	}
}

// TestGoldenExamples keeps the documented examples (testdata/*.json, quoted
// in FORMATS.md) in step with the code; -update rewrites them.
func TestGoldenExamples(t *testing.T) {
	a := golden(t)
	// The codec's golden file predates the sign convention of scores
	// (codecs/ANOMALY.md: lower is more anomalous, score < threshold); the
	// documented example uses ANOMALY.md's numbers.
	a.Score, a.Threshold = -7.25, -1.5
	for _, f := range []siem.Format{siem.FormatOCSF, siem.FormatECS} {
		t.Run(string(f), func(t *testing.T) {
			b, err := siem.Encode(f, a, siem.Options{ProductVersion: "v0.1.0"})
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "example-"+string(f)+".json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./siem -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s differs from the output; run go test ./siem -update and review the diff", path)
			}
		})
	}
}

func TestECSFields(t *testing.T) {
	a := golden(t)
	b, err := siem.Encode(siem.FormatECS, a, siem.Options{Incident: incident(siem.ActivityUpdate)})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	ev := m["event"].(map[string]any)
	if ev["kind"] != "alert" || ev["id"] != a.ID || ev["severity"] != 99.0 {
		t.Errorf("event = %v", ev)
	}
	if ip := m["host"].(map[string]any)["ip"].([]any); len(ip) != 1 || ip[0] != a.Host {
		t.Errorf("host.ip = %v, want [%s]", ip, a.Host)
	}
	if _, err := time.Parse(time.RFC3339Nano, m["@timestamp"].(string)); err != nil {
		t.Errorf("@timestamp: %v", err)
	}
	inc := m["riptide"].(map[string]any)["incident"].(map[string]any)
	if inc["id"] != "10.1.0.17@1772443260000" || inc["action"] != "update" || inc["windows"] != 4.0 {
		t.Errorf("riptide.incident = %v", inc)
	}
}

func TestRiptideFormatIsTheAnomaly(t *testing.T) {
	a := golden(t)
	b, err := siem.Encode(siem.FormatRiptide, a, siem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := codecs.EncodeAnomaly(a)
	if !bytes.Equal(b, want) {
		t.Errorf("riptide format = %s, want the anomaly JSON %s", b, want)
	}
}

func TestSeverity(t *testing.T) {
	p := siem.DefaultSeverityPolicy()
	tests := []struct {
		score, threshold float64
		z                []float64
		want             string
	}{
		{-1.6, -1.5, nil, siem.SeverityInfo},
		{-2.5, -1.5, nil, siem.SeverityWarning},
		{-5.5, -1.5, nil, siem.SeverityError},
		{-9.5, -1.5, nil, siem.SeverityCritical},
		{-1.6, -1.5, []float64{12, 11}, siem.SeverityError},
		{-1.6, -1.5, []float64{12, 3}, siem.SeverityInfo},
		{-9.5, -1.5, []float64{12, 11}, siem.SeverityCritical},
	}
	for _, tt := range tests {
		a := &codecs.Anomaly{Score: tt.score, Threshold: tt.threshold}
		for _, z := range tt.z {
			a.Reasons = append(a.Reasons, codecs.Reason{Z: z})
		}
		if got := siem.SeverityOf(a, p); got != tt.want {
			t.Errorf("SeverityOf(score %v, threshold %v, z %v) = %s, want %s", tt.score, tt.threshold, tt.z, got, tt.want)
		}
	}
	for _, s := range []string{"info", "warning", "error", "critical"} {
		if _, err := siem.ParseSeverity(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := siem.ParseSeverity("high"); err == nil || !strings.Contains(err.Error(), "choose") {
		t.Errorf("ParseSeverity(high) = %v", err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range siem.Formats {
		if got, err := siem.ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := siem.ParseFormat("cef"); err == nil {
		t.Error("ParseFormat(cef) succeeded")
	}
}
