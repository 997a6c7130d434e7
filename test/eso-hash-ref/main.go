// The Go reference for ESO's content hashes (src/sync/eso-hash.ts is tested against it).
// ESO computes both as sha3-224 of fmt.Sprintf("%+v", value): the Secret data-hash annotation of
// its map[string][]byte, and status.syncedResourceVersion as "<generation>-" plus the hash of a
// struct{annotations, labels map[string]string}. This program does the same with the standard
// library only, so it builds offline. Input on stdin: a JSON array of cases; output: a JSON array
// of hashes, one per case.
package main

import (
	"crypto/sha3"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
)

type testCase struct {
	// Data: a Secret's data, values base64 (as the apiserver returns them).
	Data map[string]string `json:"data,omitempty"`
	// Text: a string, as ESO hashes "<namespace>/<name>" for the created-by label.
	Text *string `json:"text,omitempty"`
	// Meta: an ExternalSecret's generation, labels and annotations.
	Meta *struct {
		Generation  int64             `json:"generation"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"meta,omitempty"`
}

func objectHash(v any) string {
	return fmt.Sprintf("%x", sha3.Sum224([]byte(fmt.Sprintf("%+v", v))))
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := make([]string, 0, len(cases))
	for _, c := range cases {
		if c.Text != nil {
			out = append(out, objectHash(*c.Text))
			continue
		}
		if c.Meta != nil {
			type meta struct {
				annotations map[string]string
				labels      map[string]string
			}
			m := meta{annotations: c.Meta.Annotations, labels: c.Meta.Labels}
			out = append(out, fmt.Sprintf("%d-%s", c.Meta.Generation, objectHash(m)))
			continue
		}
		data := map[string][]byte{}
		for k, v := range c.Data {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			data[k] = b
		}
		out = append(out, objectHash(data))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}
