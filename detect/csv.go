package detect

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadCSV reads a feature matrix from comma-separated text: a header row of
// feature names, then one row of numbers per sample. Errors wrap ErrBadCSV
// and give the line and field (both 1-based) of the offending cell. NaN and
// infinite values are rejected.
func ReadCSV(r io.Reader) (names []string, X [][]float64, err error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("detect: csv: no header row: %w", ErrBadCSV)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("detect: csv: %w: %w", ErrBadCSV, err)
	}
	names = make([]string, len(header))
	for k, h := range header {
		names[k] = strings.TrimSpace(h)
		if names[k] == "" {
			return nil, nil, fmt.Errorf("detect: csv: line 1 column %d: empty feature name: %w", k+1, ErrBadCSV)
		}
	}
	d := len(names)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// csv.ParseError carries line and column, and wrong field counts.
			return nil, nil, fmt.Errorf("detect: csv: %w: %w", ErrBadCSV, err)
		}
		line, _ := cr.FieldPos(0)
		row := make([]float64, d)
		for k, cell := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("detect: csv: line %d column %d (%s): %q is not a finite number: %w", line, k+1, names[k], cell, ErrBadCSV)
			}
			row[k] = v
		}
		X = append(X, row)
	}
	return names, X, nil
}
