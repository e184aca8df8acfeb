// Package charts draws a backtest's results as PNG images (gonum/plot): the
// precision-recall curve over every threshold, and a score timeline per
// flagged host with its labelled attack intervals shaded. `riptide backtest
// --plot DIR` writes them.
package charts

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/riptide-nids/riptide/backtest"
)

// MaxTimelines bounds the timelines Write draws (labelled attackers and
// victims first, then the hosts with most anomalies).
const MaxTimelines = 16

var (
	red    = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	blue   = color.RGBA{R: 30, G: 80, B: 180, A: 255}
	shadeA = color.NRGBA{R: 230, G: 60, B: 60, A: 60}   // attacker/victim span
	shadeP = color.NRGBA{R: 120, G: 120, B: 120, A: 50} // participant span
	gray   = color.RGBA{R: 90, G: 90, B: 90, A: 255}
)

// Write draws pr.png (with labels) and timeline-<host>.png files into dir
// (created if needed) and returns the paths written.
func Write(dir string, res *backtest.Result, labels []backtest.Label, win time.Duration) ([]string, error) {
	if res.Model == nil {
		return nil, fmt.Errorf("charts: no model: nothing was scored")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("charts: %w", err)
	}
	var out []string
	if len(labels) > 0 {
		c := backtest.PRCurve(labels, res.Scored, win)
		at, _ := c.At(res.Model.Threshold)
		p := filepath.Join(dir, "pr.png")
		if err := PR(c, at, p); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	for _, h := range timelineHosts(res, labels) {
		p := filepath.Join(dir, "timeline-"+fileSafe(h)+".png")
		if err := Timeline(h, res.Scored, res.Model.Threshold, labels, p); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// timelineHosts picks the hosts to draw: flagged hosts, labelled attackers
// and victims first, then by number of anomalies; at most MaxTimelines.
func timelineHosts(res *backtest.Result, labels []backtest.Label) []string {
	n := map[string]int{}
	for _, a := range res.Anomalies {
		n[a.Host]++
	}
	principal := map[string]bool{}
	for _, l := range labels {
		if l.Principal() {
			principal[l.Host] = true
		}
	}
	hosts := make([]string, 0, len(n))
	for h := range n {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, func(a, b string) int {
		if principal[a] != principal[b] {
			if principal[a] {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(n[b], n[a]), strings.Compare(a, b))
	})
	if len(hosts) > MaxTimelines {
		hosts = hosts[:MaxTimelines]
	}
	return hosts
}

// PR draws the precision-recall curve with the model's operating point.
func PR(c backtest.Curve, at backtest.CurvePoint, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Precision-recall over all thresholds (average precision %.3f)", c.AveragePrecision)
	p.X.Label.Text = "recall"
	p.Y.Label.Text = "precision"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1.02, 0, 1.02
	p.Add(plotter.NewGrid())
	pts := make(plotter.XYs, 0, len(c.Points)+1)
	if len(c.Points) > 0 {
		pts = append(pts, plotter.XY{X: 0, Y: c.Points[0].Precision})
	}
	for _, q := range c.Points {
		pts = append(pts, plotter.XY{X: q.Recall, Y: q.Precision})
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	line.Color = blue
	line.Width = vg.Points(1.5)
	p.Add(line)
	op, err := plotter.NewScatter(plotter.XYs{{X: at.Recall, Y: at.Precision}})
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	op.Color = red
	op.Shape = draw.CircleGlyph{}
	op.Radius = vg.Points(5)
	p.Add(op)
	p.Legend.Add("all thresholds", line)
	p.Legend.Add(fmt.Sprintf("model threshold: P %.3f, R %.3f", at.Precision, at.Recall), op)
	p.Legend.Left = true
	p.Legend.Top = false
	return save(p, path, 7, 5)
}

// Timeline draws the score margin (score − threshold; below 0 is flagged)
// of every scored window of host over time, the flagged windows in red, and
// the host's labelled spans shaded (attacker or victim red, participant
// gray).
func Timeline(host string, scored []backtest.Scored, threshold float64, labels []backtest.Label, path string) error {
	var all, flagged plotter.XYs
	gap := 0.0 // the window size in seconds, from the windows themselves
	for _, s := range scored {
		if s.Host != host {
			continue
		}
		gap = max(gap, float64(s.End-s.Start)/1e9)
		xy := plotter.XY{X: float64(s.End) / 1e9, Y: s.Score - threshold}
		all = append(all, xy)
		if s.Anomaly {
			flagged = append(flagged, xy)
		}
	}
	if len(all) == 0 {
		return fmt.Errorf("charts: no scored window of %s", host)
	}
	slices.SortFunc(all, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	ymin, ymax := 0.0, 0.0
	for _, xy := range all {
		ymin, ymax = math.Min(ymin, xy.Y), math.Max(ymax, xy.Y)
	}
	pad := 0.05 * (ymax - ymin + 1)
	ymin, ymax = ymin-pad, ymax+pad
	// The x range covers the host's windows and labelled spans, with a
	// minute of context either side.
	xmin, xmax := all[0].X, all[len(all)-1].X
	for _, l := range labels {
		if l.Host == host {
			xmin = math.Min(xmin, float64(l.Start.UnixNano())/1e9)
			xmax = math.Max(xmax, float64(l.End.UnixNano())/1e9)
		}
	}

	p := plot.New()
	p.Title.Text = "Score margin of " + host + " (below 0: anomaly)"
	p.X.Label.Text = "window end (UTC)"
	p.Y.Label.Text = "score − threshold"
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04:05", Time: func(t float64) time.Time { return time.Unix(0, int64(t*1e9)).UTC() }}
	p.Y.Min, p.Y.Max = ymin, ymax
	p.X.Min, p.X.Max = xmin-60, xmax+60
	p.Add(plotter.NewGrid())
	shaded := map[string]bool{}
	for _, l := range labels {
		if l.Host != host {
			continue
		}
		x0, x1 := float64(l.Start.UnixNano())/1e9, float64(l.End.UnixNano())/1e9
		if x1-x0 < 1 {
			x1 = x0 + 1
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ymin}, {X: x1, Y: ymin}, {X: x1, Y: ymax}, {X: x0, Y: ymax}})
		if err != nil {
			return fmt.Errorf("charts: %w", err)
		}
		poly.LineStyle.Width = 0
		poly.Color = shadeP
		if l.Principal() {
			poly.Color = shadeA
		}
		p.Add(poly)
		if name := l.Attack + " (" + l.Role + ")"; !shaded[name] {
			shaded[name] = true
			p.Legend.Add(name, poly)
		}
	}
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Color = gray
	zero.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(zero)
	// Lines join consecutive windows only: a host silent for a while has
	// no scores in between.
	var line *plotter.Line
	for _, run := range runs(all, gap) {
		l, points, err := plotter.NewLinePoints(run)
		if err != nil {
			return fmt.Errorf("charts: %w", err)
		}
		l.Color, points.Color = blue, blue
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(1.5)
		p.Add(l, points)
		line = l
	}
	p.Legend.Add(fmt.Sprintf("%d scored windows", len(all)), line)
	if len(flagged) > 0 {
		sc, err := plotter.NewScatter(flagged)
		if err != nil {
			return fmt.Errorf("charts: %w", err)
		}
		sc.Color = red
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(3)
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("%d anomalies", len(flagged)), sc)
	}
	p.Legend.Top = false
	return save(p, path, 10, 4)
}

// runs splits points sorted by x where consecutive x differ by more than
// step (with some slack).
func runs(xys plotter.XYs, step float64) []plotter.XYs {
	var out []plotter.XYs
	start := 0
	for i := 1; i <= len(xys); i++ {
		if i == len(xys) || xys[i].X-xys[i-1].X > 1.5*step {
			out = append(out, xys[start:i])
			start = i
		}
	}
	return out
}

func save(p *plot.Plot, path string, w, h vg.Length) error {
	if err := p.Save(w*vg.Inch, h*vg.Inch, path); err != nil {
		return fmt.Errorf("charts: write %s: %w", path, err)
	}
	return nil
}

// fileSafe turns a host address into a file name part (IPv6 colons become
// dashes).
func fileSafe(h string) string {
	return strings.NewReplacer(":", "-", "/", "_", "%", "_").Replace(h)
}
