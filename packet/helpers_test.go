package packet

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
)

func datasetsDir(tb testing.TB) string {
	tb.Helper()
	return testenv.Datasets(tb)
}

// datasetCaptures returns the capture files the reader tests cover, relative
// to the datasets directory: everything under pcap/ and the benchmark.
func datasetCaptures(tb testing.TB) []string {
	tb.Helper()
	root := datasetsDir(tb)
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "pcap"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	files = append(files, "bench/dev-mixed.pcap")
	sort.Strings(files)
	return files
}

// frame is one record of a capture file, kept in memory.
type frame struct {
	data []byte
	link uint32
	ts   int64
	wire int
}

// loadFrames reads every record of the capture at path.
func loadFrames(tb testing.TB, path string) []frame {
	tb.Helper()
	r, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	var frames []frame
	for {
		data, link, ts, wire, err := r.src.next()
		if err != nil {
			break
		}
		frames = append(frames, frame{data: append([]byte(nil), data...), link: link, ts: ts, wire: wire})
	}
	return frames
}
