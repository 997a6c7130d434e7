// Command olm-validate checks an OLM bundle directory (manifests/ and metadata/) with
// operator-framework's own validators, the checks `operator-sdk bundle validate` runs: the
// default bundle validators (CSV, CRDs, the bundle as a whole), the objects in it, OperatorHub's
// metadata, capability and category rules, the good-practices validator and the removed-APIs check. It prints one JSON line per finding
// ({"level","validator","type","field","detail"}) and exits 1 when any is an error.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
	validator "github.com/operator-framework/api/pkg/validation/interfaces"
)

type finding struct {
	Level     string `json:"level"`
	Validator string `json:"validator"`
	Type      string `json:"type"`
	Field     string `json:"field,omitempty"`
	Detail    string `json:"detail"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: olm-validate <bundle dir> <kubernetes version, e.g. 1.37>")
		os.Exit(2)
	}
	bundle, err := manifests.GetBundleFromDir(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "olm-validate: loading the bundle: %v\n", err)
		os.Exit(1)
	}
	objs := bundle.ObjectsToValidate()
	// Optional values some validators read (OperatorHub's: the cluster version to check API removals against).
	objs = append(objs, map[string]string{"k8s-version": os.Args[2]})
	validators := append(validator.Validators{}, validation.DefaultBundleValidators...)
	validators = append(validators,
		validation.ObjectValidator,
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.GoodPracticesValidator,
		validation.AlphaDeprecatedAPIsValidator,
	)
	out := json.NewEncoder(os.Stdout)
	failed := false
	report := func(level, name string, e errors.Error) {
		_ = out.Encode(finding{Level: level, Validator: name, Type: string(e.Type), Field: e.Field, Detail: e.Error()})
	}
	for _, result := range validators.Validate(objs...) {
		for _, e := range result.Errors {
			failed = true
			report("error", result.Name, e)
		}
		for _, w := range result.Warnings {
			report("warning", result.Name, w)
		}
	}
	if failed {
		os.Exit(1)
	}
}
