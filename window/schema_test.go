package window

import (
	"regexp"
	"testing"
)

func TestSchema(t *testing.T) {
	if len(Schema) != NumFeatures {
		t.Fatalf("len(Schema) = %d, want %d", len(Schema), NumFeatures)
	}
	if NumFeatures < 30 || NumFeatures > 50 {
		t.Errorf("%d features", NumFeatures)
	}
	name := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{}
	for i, f := range Schema {
		if !name.MatchString(f.Name) || f.Unit == "" || len(f.Help) < 10 {
			t.Errorf("feature %d %+v incomplete", i, f)
		}
		if seen[f.Name] {
			t.Errorf("duplicate feature %q", f.Name)
		}
		seen[f.Name] = true
		if j, ok := FeatureIndex(f.Name); !ok || j != i {
			t.Errorf("FeatureIndex(%q) = %d, %v", f.Name, j, ok)
		}
	}
	if _, ok := FeatureIndex("nope"); ok {
		t.Error("FeatureIndex found an unknown name")
	}
}

// TestSchemaID pins the schema identifier: a change here means models
// trained on earlier vectors no longer apply. Update it deliberately.
func TestSchemaID(t *testing.T) {
	id := SchemaID()
	if !regexp.MustCompile(`^v1-[0-9a-f]{8}$`).MatchString(id) {
		t.Fatalf("SchemaID %q malformed", id)
	}
	if id != SchemaID() {
		t.Fatal("SchemaID not stable")
	}
	const want = "v1-6a52730a" // 48 features: the seven security-event features added
	if id != want {
		t.Errorf("SchemaID = %q, want %q", id, want)
	}
}
