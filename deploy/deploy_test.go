package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// bin is the riptide binary built from this checkout by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "riptide-deploy")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "riptide")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/riptide").CombinedOutput()
	if err != nil {
		_, _ = os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// cmdHelp is what a command's --help says about it.
type cmdHelp struct {
	subcommands map[string]bool
	flags       map[string]bool // long name -> takes a value
	short       map[string]bool // shorthand letter -> takes a value
}

var (
	flagLine = regexp.MustCompile(`^\s+(?:-([A-Za-z0-9]), )?--([A-Za-z0-9-]+)(?: ([A-Za-z0-9]+))?\s`)
	cmdLine  = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s{2,}\S`)
)

// help runs `riptide <path> --help` and parses its command and flag lists.
func help(t *testing.T, path []string) cmdHelp {
	t.Helper()
	out, code := runBin(append(slices.Clone(path), "--help")...)
	if code != 0 {
		t.Fatalf("riptide %s --help: exit %d\n%s", strings.Join(path, " "), code, out)
	}
	h := cmdHelp{subcommands: map[string]bool{}, flags: map[string]bool{}, short: map[string]bool{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " ") {
			section = line
			continue
		}
		switch section {
		case "Available Commands:":
			if m := cmdLine.FindStringSubmatch(line); m != nil {
				h.subcommands[m[1]] = true
			}
		case "Flags:", "Global Flags:":
			if m := flagLine.FindStringSubmatch(line); m != nil {
				h.flags[m[2]] = m[3] != ""
				if m[1] != "" {
					h.short[m[1]] = m[3] != ""
				}
			}
		}
	}
	return h
}

// runBin runs the binary with a clean environment (no RIPTIDE_* settings of
// the caller's) and returns its combined output and exit code.
func runBin(args ...string) (string, int) {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		return err.Error(), -1
	}
	return out.String(), 0
}

// checkCommandLine checks one riptide command line (arguments after the
// binary): the leading words must be a chain of real subcommands, every other
// token a known flag or the value of the flag before it, and the binary must
// accept the whole line (flag values parse: durations, numbers).
func checkCommandLine(t *testing.T, where string, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: empty riptide command line", where)
		return
	}
	var path []string
	h := help(t, nil)
	i := 0
	for ; i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		if !h.subcommands[args[i]] {
			t.Errorf("%s: %q is not a subcommand of riptide %s (have %v)", where, args[i], strings.Join(path, " "), keys(h.subcommands))
			return
		}
		path = append(path, args[i])
		h = help(t, path)
	}
	if len(path) == 0 {
		t.Errorf("%s: %q names no subcommand", where, strings.Join(args, " "))
		return
	}
	if len(h.subcommands) > 0 {
		t.Errorf("%s: riptide %s needs a subcommand (one of %v)", where, strings.Join(path, " "), keys(h.subcommands))
		return
	}
	known := slices.Clone(path)
	for ; i < len(args); i++ {
		tok := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
		var takesValue, ok bool
		switch {
		case strings.HasPrefix(tok, "--"):
			takesValue, ok = h.flags[name]
		case strings.HasPrefix(tok, "-") && len(name) == 1:
			takesValue, ok = h.short[name]
		default:
			t.Errorf("%s: riptide %s: unexpected argument %q (the subcommands take flags only)", where, strings.Join(path, " "), tok)
			continue
		}
		if !ok {
			t.Errorf("%s: riptide %s has no flag %s", where, strings.Join(path, " "), tok)
			continue
		}
		known = append(known, tok)
		if takesValue && !hasValue {
			if i+1 >= len(args) {
				t.Errorf("%s: flag %s has no value", where, tok)
				continue
			}
			i++
			known = append(known, args[i])
		}
		if !takesValue && hasValue && value != "true" && value != "false" {
			t.Errorf("%s: boolean flag %s given %q", where, name, value)
		}
	}
	if slices.Equal(path, []string{"run"}) {
		checkGroups(t, where, known)
	}
	// cobra parses (and rejects) the flags before it prints the help.
	if out, code := runBin(append(known, "--help")...); code != 0 {
		t.Errorf("%s: riptide %s rejects the command line: exit %d\n%s", where, strings.Join(known, " "), code, firstLines(out, 3))
	}
}

var groupsDefault = regexp.MustCompile(`--groups string .*\(default "([a-z,]+)"\)`)

// checkGroups checks the consumer groups named by --groups of riptide run
// against those the binary runs by default (all of them); run rejects
// others only when it starts, after --help would have returned.
func checkGroups(t *testing.T, where string, args []string) {
	t.Helper()
	out, _ := runBin("run", "--help")
	m := groupsDefault.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("riptide run --help does not show the default of --groups:\n%s", out)
	}
	all := strings.Split(m[1], ",")
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--groups=")
		if !ok && a == "--groups" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if !ok {
			continue
		}
		for _, g := range strings.Split(v, ",") {
			if !slices.Contains(all, g) {
				t.Errorf("%s: riptide run --groups %s: no group %q (have %v)", where, v, g, all)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// composeDefaults replaces compose interpolations ${VAR:-default} and
// ${VAR-default} by their defaults, as compose does with VAR unset.
var composeVar = regexp.MustCompile(`\$\{[A-Z0-9_]+:?-([^}]*)\}`)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		ReadOnly    bool              `yaml:"read_only"`
		CapDrop     []string          `yaml:"cap_drop"`
		User        string            `yaml:"user"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose/compose.yaml: %v", err)
	}
	return c
}

// metricsAddr returns the value of --metrics-addr in args, or "".
func metricsAddr(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--metrics-addr="); ok {
			return v
		}
		if a == "--metrics-addr" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func TestComposeCommandsExist(t *testing.T) {
	c := readCompose(t)
	var riptide []string
	for name, s := range c.Services {
		if !strings.Contains(s.Image, "riptide") {
			continue
		}
		riptide = append(riptide, name)
		args := make([]string, len(s.Command))
		for i, a := range s.Command {
			args[i] = composeVar.ReplaceAllString(a, "$1")
		}
		checkCommandLine(t, "compose service "+name, args)
		if s.Environment["RIPTIDE_BROKERS"] != "kafka:9092" {
			t.Errorf("compose service %s: RIPTIDE_BROKERS = %q, want the kafka service", name, s.Environment["RIPTIDE_BROKERS"])
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || s.User == "" || strings.HasPrefix(s.User, "0") {
			t.Errorf("compose service %s: want read_only, cap_drop [ALL] and a non-root user; got %v %v %q", name, s.ReadOnly, s.CapDrop, s.User)
		}
	}
	sort.Strings(riptide)
	want := []string{"capture", "detector", "tail", "topics", "trainer", "windower"}
	if !slices.Equal(riptide, want) {
		t.Errorf("riptide services = %v, want %v", riptide, want)
	}
	// Every long-running service serves the metrics port Prometheus scrapes.
	for _, name := range []string{"windower", "trainer", "detector", "capture"} {
		if got := metricsAddr(c.Services[name].Command); got != ":9400" {
			t.Errorf("compose service %s: --metrics-addr %q, want :9400", name, got)
		}
	}
}

// The Prometheus example discovers exactly the compose services that serve metrics.
func TestPrometheusScrapesComposeServices(t *testing.T) {
	c := readCompose(t)
	var served []string
	for name, s := range c.Services {
		if metricsAddr(s.Command) != "" {
			served = append(served, name)
		}
	}
	b, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	var scraped []string
	for _, sc := range p.ScrapeConfigs {
		for _, d := range sc.DNSSDConfigs {
			if d.Port != 9400 {
				t.Errorf("job %s: port %d, want 9400", sc.JobName, d.Port)
			}
			scraped = append(scraped, d.Names...)
		}
	}
	sort.Strings(served)
	sort.Strings(scraped)
	if !slices.Equal(served, scraped) {
		t.Errorf("compose services with --metrics-addr %v, Prometheus discovers %v", served, scraped)
	}
}

func TestSystemdCommandExists(t *testing.T) {
	f, err := os.Open("systemd/riptide-run.service")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ExecStart=")
		if !ok {
			continue
		}
		n++
		fields := strings.Fields(line)
		if len(fields) == 0 || filepath.Base(fields[0]) != "riptide" {
			t.Errorf("ExecStart=%s does not start the riptide binary", line)
			continue
		}
		checkCommandLine(t, "systemd ExecStart", fields[1:])
	}
	if n == 0 {
		t.Error("systemd/riptide-run.service has no ExecStart")
	}
}

// helmBin finds helm: $HELM, then PATH, then $(go env GOPATH)/bin.
func helmBin(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	if h, err := exec.LookPath("helm"); err == nil {
		return h
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		h := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(h); err == nil {
			return h
		}
	}
	msg := "helm is not installed (go install helm.sh/helm/v3/cmd/helm@v3.22.0, or set HELM)"
	if os.Getenv("RIPTIDE_REQUIRE_HELM") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; make deploy-check requires it")
	return ""
}

// k8sObject is the part of a rendered manifest the tests look at.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []struct {
		Name  string   `yaml:"name"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		// SecurityContext of the container.
		SecurityContext struct {
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
	} `yaml:"containers"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// helmTemplate renders the chart with the given --set values.
func helmTemplate(t *testing.T, helm string, set ...string) []k8sObject {
	t.Helper()
	args := []string{"template", "r", "helm/riptide", "--kube-version", "1.33.0"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	var objs []k8sObject
	dec := yaml.NewDecoder(&out)
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template output: %v", err)
		}
		if o.Kind != "" {
			objs = append(objs, o)
		}
	}
	return objs
}

var k8sVar = regexp.MustCompile(`\$\(([A-Z0-9_]+)\)`)

func TestHelmCommandsExist(t *testing.T) {
	helm := helmBin(t)
	cases := []struct {
		name string
		set  []string
	}{
		{"defaults", []string{"kafka.brokers=kafka-0.kafka:9092"}},
		{"tls and sasl", []string{
			"kafka.brokers=kafka-0.kafka:9093", "kafka.tls.enabled=true", "kafka.tls.ca=PEM",
			"kafka.sasl.mechanism=SCRAM-SHA-512", "kafka.sasl.username=riptide", "kafka.sasl.password=secret",
			"pipeline.window=5s", "pipeline.learn=1h", "groups.windower.replicas=4",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := helmTemplate(t, helm, tc.set...)
			// Kubernetes expands $(VAR) in args from the container's environment:
			// the ConfigMap (envFrom) and inline env.
			config := map[string]string{}
			for _, o := range objs {
				if o.Kind == "ConfigMap" {
					for k, v := range o.Data {
						config[k] = v
					}
				}
			}
			var deployments, jobs []string
			for _, o := range objs {
				if o.Kind != "Deployment" && o.Kind != "Job" {
					continue
				}
				if o.Kind == "Deployment" {
					deployments = append(deployments, o.Metadata.Name)
				} else {
					jobs = append(jobs, o.Metadata.Name)
				}
				pod := o.Spec.Template.Spec
				for _, c := range pod.Containers {
					env := maps(config)
					for _, e := range c.Env {
						env[e.Name] = e.Value
					}
					args := make([]string, len(c.Args))
					for i, a := range c.Args {
						args[i] = k8sVar.ReplaceAllStringFunc(a, func(m string) string {
							name := k8sVar.FindStringSubmatch(m)[1]
							v, ok := env[name]
							if !ok {
								t.Errorf("%s %s: %s is not in the container's environment", o.Kind, o.Metadata.Name, m)
							}
							return v
						})
					}
					checkCommandLine(t, o.Kind+" "+o.Metadata.Name, args)
					if c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
						c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation ||
						!slices.Equal(c.SecurityContext.Capabilities.Drop, []string{"ALL"}) {
						t.Errorf("%s %s: want a read-only root, no privilege escalation, all capabilities dropped", o.Kind, o.Metadata.Name)
					}
					if o.Kind != "Deployment" {
						continue
					}
					if got := metricsAddr(args); got != ":9400" {
						t.Errorf("%s: --metrics-addr %q, want :9400", o.Metadata.Name, got)
					}
					if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != 9400 {
						t.Errorf("%s: ports %+v, want metrics 9400", o.Metadata.Name, c.Ports)
					}
					if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port != "metrics" {
						t.Errorf("%s: liveness probe %+v, want GET /healthz on metrics", o.Metadata.Name, c.LivenessProbe)
					}
					if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port != "metrics" {
						t.Errorf("%s: readiness probe %+v, want GET /readyz on metrics", o.Metadata.Name, c.ReadinessProbe)
					}
				}
				if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
					t.Errorf("%s %s: want runAsNonRoot", o.Kind, o.Metadata.Name)
				}
			}
			sort.Strings(deployments)
			if want := []string{"r-riptide-detector", "r-riptide-trainer", "r-riptide-windower"}; !slices.Equal(deployments, want) {
				t.Errorf("deployments %v, want %v", deployments, want)
			}
			if !slices.Equal(jobs, []string{"r-riptide-topics"}) {
				t.Errorf("jobs %v, want the topics hook", jobs)
			}
		})
	}
}

func maps(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// The chart refuses settings that cannot work (its templates and
// values.schema.json), saying what to set.
func TestHelmRejectsBadKafkaSettings(t *testing.T) {
	helm := helmBin(t)
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{nil, "kafka.brokers is required"},
		{[]string{"kafka.brokers=k:9092", "kafka.sasl.mechanism=GSSAPI"}, "SCRAM-SHA-512"},
		{[]string{"kafka.brokers=k:9092", "kafka.sasl.mechanism=PLAIN", "kafka.sasl.username=u"}, "set kafka.sasl.password"},
		{[]string{"kafka.brokers=k:9092", "kafka.tls.ca=PEM"}, "set kafka.tls.enabled=true"},
		// values.schema.json
		{[]string{"kafka.brokers=k:9092", "pipeline.window=10x"}, "/pipeline/window"},
		{[]string{"kafka.brokers=k:9092", "groups.windower.replicas=two"}, "/groups/windower/replicas"},
	} {
		args := []string{"template", "r", "helm/riptide", "--kube-version", "1.33.0"}
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		out, err := exec.Command(helm, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("helm template --set %v: err %v, output %q; want a failure saying %q", tc.set, err, firstLines(string(out), 2), tc.want)
		}
	}
}

// contractMetrics are the metric names of the operations contract the
// metrics branch implements (riptide_*), plus the Go and process collectors'
// metrics the dashboard uses.
var contractMetrics = map[string]bool{
	"riptide_records_consumed_total":       true,
	"riptide_records_produced_total":       true,
	"riptide_consumer_lag":                 true,
	"riptide_window_close_latency_seconds": true,
	"riptide_windows_closed_total":         true,
	"riptide_late_records_total":           true,
	"riptide_windows_scored_total":         true,
	"riptide_anomalies_total":              true,
	"riptide_anomaly_score":                true,
	"riptide_deadletters_total":            true,
	"riptide_model_version":                true,
	"riptide_model_info":                   true,
	"riptide_ready":                        true,
}

var metricName = regexp.MustCompile(`\briptide_[a-z_]+`)

// usedMetrics returns the riptide_* metrics an expression text refers to,
// histogram series mapped to their histogram.
func usedMetrics(text string) map[string]bool {
	used := map[string]bool{}
	for _, m := range metricName.FindAllString(text, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(m, suf); ok && contractMetrics[base] {
				m = base
			}
		}
		used[m] = true
	}
	return used
}

type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/riptide-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/riptide-dashboard.json: %v", err)
	}
	return d
}

func TestAlertsAndDashboardUseContractMetrics(t *testing.T) {
	alerts, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var exprs strings.Builder
	for _, p := range readDashboard(t).Panels {
		for _, tg := range p.Targets {
			exprs.WriteString(tg.Expr + "\n")
		}
	}
	for file, text := range map[string]string{"prometheus/alerts.yml": string(alerts), "grafana/riptide-dashboard.json": exprs.String()} {
		for m := range usedMetrics(text) {
			if !contractMetrics[m] {
				t.Errorf("%s uses %s, which is not a metric of the contract", file, m)
			}
		}
	}
	// What the dashboard must show (issue 6).
	used := usedMetrics(exprs.String())
	for _, m := range []string{
		"riptide_records_consumed_total", "riptide_records_produced_total", "riptide_consumer_lag",
		"riptide_window_close_latency_seconds", "riptide_anomalies_total", "riptide_deadletters_total",
		"riptide_model_version",
	} {
		if !used[m] {
			t.Errorf("the dashboard shows no %s", m)
		}
	}
	if !strings.Contains(exprs.String(), "go_memstats_heap_inuse_bytes") {
		t.Error("the dashboard shows no Go memory")
	}
}

// The dashboard's queries are valid PromQL: promtool parses them as rules.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool is not installed (Debian package prometheus)"
		if os.Getenv("RIPTIDE_REQUIRE_PROMTOOL") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; make deploy-check requires it")
	}
	grafanaVars := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$job", ".*")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range readDashboard(t).Panels {
		for _, tg := range p.Targets {
			n++
			expr, _ := json.Marshal(grafanaVars.Replace(tg.Expr)) // a JSON string is a YAML string
			fmt.Fprintf(&rules, "      - record: dashboard:panel_%d\n        expr: %s\n", n, expr)
		}
	}
	if n == 0 {
		t.Fatal("the dashboard has no queries")
	}
	f := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(f, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules (the dashboard's %d queries): %v\n%s", n, err, out)
	}
}
