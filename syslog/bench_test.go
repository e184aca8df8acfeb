package syslog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/syslog"
)

// BenchmarkParseExtract parses every line of the sshd log and extracts its
// security event: the per-line work of riptide syslog before producing.
func BenchmarkParseExtract(b *testing.B) {
	for _, file := range []string{"OpenSSH_2k.log", "Linux_2k.log"} {
		b.Run(file, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join(testenv.Datasets(b), "syslog", file))
			if err != nil {
				b.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
			p := syslog.NewParser(syslog.ParserConfig{Year: 2016})
			b.ReportAllocs()
			b.SetBytes(int64(len(data) / len(lines)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m, err := p.Parse(lines[i%len(lines)])
				if err != nil {
					b.Fatal(err)
				}
				syslog.Extract(m.App, m.Text)
			}
		})
	}
}

// BenchmarkFramer splits an octet-counted stream.
func BenchmarkFramer(b *testing.B) {
	msg := []byte("<38>Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for invalid user test9 from 52.80.34.196 port 36060 ssh2")
	var stream []byte
	for range 1000 {
		stream = append(stream, []byte(string(rune('0'+len(msg)/100))+string(rune('0'+len(msg)/10%10))+string(rune('0'+len(msg)%10))+" ")...)
		stream = append(stream, msg...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream) / 1000))
	b.ResetTimer()
	for i := 0; i < b.N; i += 1000 {
		f := syslog.NewFramer(bytes.NewReader(stream), 0)
		for range 1000 {
			if _, err := f.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
