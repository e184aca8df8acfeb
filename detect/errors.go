package detect

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these where it
// applies, so callers can test with errors.Is.
var (
	// ErrSchemaMismatch reports that the feature names of the input differ
	// from the ones the model was trained on.
	ErrSchemaMismatch = errors.New("feature schema mismatch")
	// ErrInvalidConfig reports a bad training configuration or solver option.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrInvalidInput reports unusable training data: too few rows, ragged
	// rows, or NaN and infinite values.
	ErrInvalidInput = errors.New("invalid input data")
	// ErrInvalidModel reports a model that is inconsistent, for example one
	// read from a corrupted or hand-edited file.
	ErrInvalidModel = errors.New("invalid model")
	// ErrUnsupportedFormat reports a model file whose FormatVersion this
	// build cannot read.
	ErrUnsupportedFormat = errors.New("unsupported model format version")
	// ErrNotConverged reports that the SMO solver hit its iteration limit.
	ErrNotConverged = errors.New("solver did not converge")
	// ErrBadCSV reports a malformed CSV file.
	ErrBadCSV = errors.New("bad CSV")
)
