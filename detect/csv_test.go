package detect

import (
	"errors"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		names   []string
		rows    int
		wantErr string // substring; "" for success
	}{
		{"ok", "a,b\n1,2\n3.5,-4e3\n", []string{"a", "b"}, 2, ""},
		{"spaces and CRLF", " a , b \r\n 1 , 2 \r\n", []string{"a", "b"}, 1, ""},
		{"header only", "a,b\n", []string{"a", "b"}, 0, ""},
		{"empty", "", nil, 0, "no header"},
		{"empty name", "a,,c\n1,2,3\n", nil, 0, "line 1 column 2: empty feature name"},
		{"not a number", "a,b\n1,2\n3,x\n", nil, 0, `line 3 column 2 (b): "x" is not a finite number`},
		{"NaN", "a,b\n1,NaN\n", nil, 0, `line 2 column 2 (b)`},
		{"short row", "a,b\n1,2\n3\n", nil, 0, "wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, X, err := ReadCSV(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrBadCSV) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrBadCSV with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(names, "|") != strings.Join(tc.names, "|") || len(X) != tc.rows {
				t.Errorf("got names %q and %d rows", names, len(X))
			}
		})
	}
	_, X, _ := ReadCSV(strings.NewReader("a,b\n1,2\n3.5,-4e3\n"))
	if X[1][0] != 3.5 || X[1][1] != -4000 || X[0][1] != 2 {
		t.Errorf("values %v", X)
	}
}
