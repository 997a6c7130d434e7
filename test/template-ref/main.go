// template-ref renders Go text/template + sprig v3 templates the way External Secrets Operator's
// template engine v2 does. It is the reference for Tessera's TypeScript engine in differential
// tests and benchmarks.
//
// stdin:  {"mode":"run","cases":[{"name":..,"template":..,"data":..,"dataMode":"eso"|"json",
//          "missingKey":"error"|"default"|"zero","library":"eso"|"none"}]}
//     or  {"mode":"bench","cases":[...],"n":N}
// stdout: run:   [{"output":base64} | {"error":"..."}]
//         bench: [{"nsPerOp":float}]
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

type tcase struct {
	Name       string          `json:"name"`
	Template   string          `json:"template"`
	Data       json.RawMessage `json:"data"`
	DataMode   string          `json:"dataMode"`
	MissingKey string          `json:"missingKey"`
	Library    string          `json:"library"`
}

type request struct {
	Mode  string  `json:"mode"`
	Cases []tcase `json:"cases"`
	N     int     `json:"n"`
}

type result struct {
	Output  *string  `json:"output,omitempty"`
	Error   *string  `json:"error,omitempty"`
	NsPerOp *float64 `json:"nsPerOp,omitempty"`
}

// ---- ESO's own template functions that are deterministic and stdlib-only ----

func toYAML(v any) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(str string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func filterPEM(pemType, input string) (string, error) {
	data := []byte(input)
	var out []byte
	var rest []byte
	for {
		var block *pem.Block
		block, rest = pem.Decode(data)
		data = rest
		if block == nil {
			break
		}
		if !strings.EqualFold(block.Type, pemType) {
			continue
		}
		var buf bytes.Buffer
		if err := pem.Encode(&buf, block); err != nil {
			return "", err
		}
		out = append(out, buf.Bytes()...)
	}
	if len(out) == 0 && len(rest) != 0 {
		return "", errors.New("error filtering pem: found junk")
	}
	return string(out), nil
}

func funcMap(library string) template.FuncMap {
	if library == "none" {
		return template.FuncMap{}
	}
	fm := sprig.TxtFuncMap()
	delete(fm, "env")
	delete(fm, "expandenv")
	fm["toYaml"] = toYAML
	fm["fromYaml"] = fromYAML
	fm["filterPEM"] = filterPEM
	for k, v := range esoCertFuncs() {
		fm[k] = v
	}
	return fm
}

func decodeData(c tcase) (any, error) {
	if len(c.Data) == 0 || string(c.Data) == "null" {
		if c.DataMode == "json" {
			return nil, nil
		}
		return map[string]string{}, nil
	}
	if c.DataMode == "json" {
		var v any
		err := json.Unmarshal(c.Data, &v)
		return v, err
	}
	m := map[string]string{}
	err := json.Unmarshal(c.Data, &m)
	return m, err
}

func prepare(c tcase) (*template.Template, any, error) {
	mk := c.MissingKey
	if mk == "" {
		mk = "error"
	}
	t, err := template.New(c.Name).Option("missingkey=" + mk).Funcs(funcMap(c.Library)).Parse(c.Template)
	if err != nil {
		return nil, nil, err
	}
	data, err := decodeData(c)
	if err != nil {
		return nil, nil, fmt.Errorf("bad test data: %w", err)
	}
	return t, data, nil
}

func run(c tcase) (res result) {
	defer func() {
		if r := recover(); r != nil {
			s := fmt.Sprintf("PANIC: %v", r)
			res = result{Error: &s}
		}
	}()
	t, data, err := prepare(c)
	if err == nil {
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		if err == nil {
			s := base64.StdEncoding.EncodeToString(buf.Bytes())
			return result{Output: &s}
		}
	}
	s := err.Error()
	return result{Error: &s}
}

func bench(c tcase, n int) result {
	t, data, err := prepare(c)
	if err != nil {
		s := err.Error()
		return result{Error: &s}
	}
	var buf bytes.Buffer
	// warm up
	for i := 0; i < n/10+1; i++ {
		buf.Reset()
		_ = t.Execute(&buf, data)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		buf.Reset()
		if err := t.Execute(&buf, data); err != nil {
			s := err.Error()
			return result{Error: &s}
		}
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	return result{NsPerOp: &ns}
}

func main() {
	var req request
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "template-ref: bad request:", err)
		os.Exit(2)
	}
	out := make([]result, 0, len(req.Cases))
	for _, c := range req.Cases {
		if req.Mode == "bench" {
			out = append(out, bench(c, req.N))
		} else {
			out = append(out, run(c))
		}
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "template-ref:", err)
		os.Exit(1)
	}
}
