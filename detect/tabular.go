package detect

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Column kinds of an Encoding.
const (
	// KindNumeric columns are parsed as numbers (log1p'd when Log1p).
	KindNumeric = "numeric"
	// KindCategorical columns are one-hot encoded over their Vocab; a value
	// outside it encodes as all zeros.
	KindCategorical = "categorical"
)

// maxVocab bounds the distinct values of a categorical column.
const maxVocab = 1000

// NSLKDDColumns is the built-in layout of NSL-KDD (Tavallaee et al. 2009):
// 41 features, the class ("normal" or an attack name) and the difficulty
// level. ReadTable recognises header-less files of this layout.
var NSLKDDColumns = []string{
	"duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
	"wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
	"root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
	"num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
	"srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
	"same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
	"dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
	"dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
	"dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
	"class", "difficulty",
}

// Table is a labelled dataset as text: column names and rows of cells.
type Table struct {
	// Columns names the columns; Rows hold one cell per column.
	Columns []string
	Rows    [][]string
	// Layout says where the column names came from: "header", "names"
	// (given by the caller) or "nsl-kdd" (recognised).
	Layout string
}

// Index returns the position of the named column, or −1.
func (t *Table) Index(name string) int { return slices.Index(t.Columns, name) }

// ReadTable reads comma-separated text. With names, the file has no header
// and names gives the columns (a file with one more field per row than
// names, whose names are NSL-KDD's first 42, gets "difficulty" as the last
// column). Without names, a header-less file whose rows have NSL-KDD's 43
// (or 42) fields and a protocol name in the second field gets the built-in
// NSL-KDD layout; any other file must start with a header row. Errors wrap
// ErrBadCSV.
func ReadTable(r io.Reader, names []string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	first, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("detect: csv: empty file: %w", ErrBadCSV)
	}
	if err != nil {
		return nil, fmt.Errorf("detect: csv: %w: %w", ErrBadCSV, err)
	}
	t := &Table{}
	switch {
	case len(names) > 0:
		t.Columns, t.Layout = slices.Clone(names), "names"
		if len(first) == len(names)+1 && slices.Equal(names, NSLKDDColumns[:len(names)]) {
			t.Columns = NSLKDDColumns[: len(names)+1 : len(names)+1]
		}
		t.Rows = append(t.Rows, first)
	case looksNSLKDD(first):
		t.Columns, t.Layout = NSLKDDColumns[:len(first):len(first)], "nsl-kdd"
		t.Rows = append(t.Rows, first)
	default:
		t.Layout = "header"
		for _, h := range first {
			t.Columns = append(t.Columns, strings.TrimSpace(h))
		}
	}
	seen := map[string]bool{}
	for k, c := range t.Columns {
		if c == "" || seen[c] {
			return nil, fmt.Errorf("detect: csv: column %d: empty or repeated name %q: %w", k+1, c, ErrBadCSV)
		}
		seen[c] = true
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("detect: csv: %w: %w", ErrBadCSV, err)
		}
		t.Rows = append(t.Rows, rec)
	}
	for i, rec := range t.Rows {
		if len(rec) != len(t.Columns) {
			line := i + 1
			if t.Layout == "header" {
				line++
			}
			return nil, fmt.Errorf("detect: csv: line %d has %d fields, want %d (%s): %w", line, len(rec), len(t.Columns), t.Layout, ErrBadCSV)
		}
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("detect: csv: no data rows: %w", ErrBadCSV)
	}
	return t, nil
}

func looksNSLKDD(rec []string) bool {
	if len(rec) != 42 && len(rec) != 43 {
		return false
	}
	switch rec[1] {
	case "tcp", "udp", "icmp":
	default:
		return false
	}
	_, err := strconv.ParseFloat(rec[0], 64)
	return err == nil
}

// Column describes how one input column is encoded.
type Column struct {
	// Name is the column's name in the input.
	Name string `json:"name"`
	// Kind is KindNumeric or KindCategorical.
	Kind string `json:"kind"`
	// Log1p applies sign(x)·log1p(|x|) to a numeric column: set for
	// non-negative columns with values above 1 (counts and bytes), not for
	// rates and flags.
	Log1p bool `json:"log1p,omitempty"`
	// Vocab lists a categorical column's values, one feature each.
	Vocab []string `json:"vocab,omitempty"`
}

// Encoding maps the cells of a labelled table to a feature vector: numeric
// columns (optionally log1p'd) and one-hot categorical columns, in column
// order. It is stored with a model, so scoring encodes exactly as training
// did.
type Encoding struct {
	// Columns are the encoded input columns, in feature order.
	Columns []Column `json:"columns"`
	// Label is the label column and Normal its value for normal rows.
	Label  string `json:"label"`
	Normal string `json:"normal"`
	// Ignored lists input columns deliberately left out.
	Ignored []string `json:"ignored,omitempty"`
}

// FeatureNames returns the names of the encoded features: a numeric
// column's name, or "column=value" for every value of a categorical one.
func (e *Encoding) FeatureNames() []string {
	var out []string
	for _, c := range e.Columns {
		if c.Kind == KindCategorical {
			for _, v := range c.Vocab {
				out = append(out, c.Name+"="+v)
			}
			continue
		}
		out = append(out, c.Name)
	}
	return out
}

// Dim returns the number of encoded features.
func (e *Encoding) Dim() int {
	n := 0
	for _, c := range e.Columns {
		if c.Kind == KindCategorical {
			n += len(c.Vocab)
		} else {
			n++
		}
	}
	return n
}

// SchemaID returns a short digest of the encoding (columns, kinds, log1p,
// vocabularies): two models score the same vectors iff their ids agree.
func (e *Encoding) SchemaID() string {
	h := sha256.New()
	for _, c := range e.Columns {
		_, _ = fmt.Fprintf(h, "%s|%s|%v|%s\n", c.Name, c.Kind, c.Log1p, strings.Join(c.Vocab, "\x1f"))
	}
	return "tabular-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// InferEncoding derives an encoding from the given rows of t: every column
// but the label and the ignored ones; a column is numeric if every cell
// parses as a finite number, categorical otherwise (vocabulary: its
// distinct values in rows, sorted).
func InferEncoding(t *Table, rows []int, label, normal string, ignore []string) (*Encoding, error) {
	li := t.Index(label)
	if li < 0 {
		return nil, fmt.Errorf("detect: label column %q is not among the columns %s: %w", label, strings.Join(t.Columns, ", "), ErrInvalidInput)
	}
	for _, ig := range ignore {
		if t.Index(ig) < 0 {
			return nil, fmt.Errorf("detect: ignored column %q is not among the columns %s: %w", ig, strings.Join(t.Columns, ", "), ErrInvalidInput)
		}
	}
	e := &Encoding{Label: label, Normal: normal, Ignored: slices.Clone(ignore)}
	for k, name := range t.Columns {
		if k == li || slices.Contains(ignore, name) {
			continue
		}
		numeric := true
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, i := range rows {
			v, err := strconv.ParseFloat(strings.TrimSpace(t.Rows[i][k]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				numeric = false
				break
			}
			lo, hi = min(lo, v), max(hi, v)
		}
		if numeric {
			e.Columns = append(e.Columns, Column{Name: name, Kind: KindNumeric, Log1p: lo >= 0 && hi > 1})
			continue
		}
		set := map[string]bool{}
		for _, i := range rows {
			set[strings.TrimSpace(t.Rows[i][k])] = true
		}
		if len(set) > maxVocab {
			return nil, fmt.Errorf("detect: column %q has %d distinct non-numeric values (at most %d are one-hot encoded): ignore it or fix the data: %w", name, len(set), maxVocab, ErrInvalidInput)
		}
		vocab := make([]string, 0, len(set))
		for v := range set {
			vocab = append(vocab, v)
		}
		slices.Sort(vocab)
		e.Columns = append(e.Columns, Column{Name: name, Kind: KindCategorical, Vocab: vocab})
	}
	if len(e.Columns) == 0 {
		return nil, fmt.Errorf("detect: no feature columns left besides the label: %w", ErrInvalidInput)
	}
	return e, nil
}

// Encoded is a table encoded for a model: feature rows and labels.
type Encoded struct {
	X      [][]float64
	Attack []bool
	// Unseen counts categorical cells outside the vocabulary.
	Unseen int
}

// Encode encodes every row of t. The table must have every column of the
// encoding and the label column, by name, in any order; otherwise the error
// wraps ErrSchemaMismatch and names the missing columns.
func (e *Encoding) Encode(t *Table) (*Encoded, error) {
	pos := make([]int, len(e.Columns))
	var missing []string
	for i, c := range e.Columns {
		pos[i] = t.Index(c.Name)
		if pos[i] < 0 {
			missing = append(missing, c.Name)
		}
	}
	li := t.Index(e.Label)
	if li < 0 {
		missing = append(missing, e.Label+" (label)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("detect: the data lacks the model's columns %s (model schema %s; it has %s): %w",
			strings.Join(missing, ", "), e.SchemaID(), strings.Join(t.Columns, ", "), ErrSchemaMismatch)
	}
	d := e.Dim()
	out := &Encoded{X: make([][]float64, len(t.Rows)), Attack: make([]bool, len(t.Rows))}
	flat := make([]float64, len(t.Rows)*d)
	index := make([]map[string]int, len(e.Columns))
	for i, c := range e.Columns {
		if c.Kind == KindCategorical {
			index[i] = make(map[string]int, len(c.Vocab))
			for j, v := range c.Vocab {
				index[i][v] = j
			}
		}
	}
	for r, rec := range t.Rows {
		x := flat[r*d : (r+1)*d : (r+1)*d]
		k := 0
		for i, c := range e.Columns {
			cell := strings.TrimSpace(rec[pos[i]])
			if c.Kind == KindCategorical {
				if j, ok := index[i][cell]; ok {
					x[k+j] = 1
				} else {
					out.Unseen++
				}
				k += len(c.Vocab)
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("detect: row %d column %q: %q is not a finite number: %w", r+1, c.Name, cell, ErrBadCSV)
			}
			if c.Log1p {
				if v < 0 {
					v = -math.Log1p(-v)
				} else {
					v = math.Log1p(v)
				}
			}
			x[k] = v
			k++
		}
		out.X[r] = x
		out.Attack[r] = strings.TrimSpace(rec[li]) != e.Normal
	}
	return out, nil
}

func (e *Encoding) validate() error {
	if len(e.Columns) == 0 || e.Label == "" {
		return fmt.Errorf("encoding: %d columns, label %q", len(e.Columns), e.Label)
	}
	for _, c := range e.Columns {
		switch c.Kind {
		case KindNumeric:
		case KindCategorical:
			if len(c.Vocab) == 0 {
				return fmt.Errorf("encoding: categorical column %q without vocabulary", c.Name)
			}
		default:
			return fmt.Errorf("encoding: column %q: kind %q", c.Name, c.Kind)
		}
	}
	return nil
}
