package oidcfed

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
)

// The metadata policy operators of OpenID Federation 1.0 §6.1.3, in the order they apply.
var policyOperators = []string{"value", "add", "default", "one_of", "subset_of", "superset_of", "essential"}

// MergePolicies combines the policies of a chain, the trust anchor's first (§6.1.4.1): value
// and default must agree, add and superset_of are united, one_of and subset_of intersected,
// essential is true when any says so. An operator this package does not know is refused.
func MergePolicies(chain ...Policy) (Policy, error) {
	out := Policy{}
	for _, p := range chain {
		for et, params := range p {
			if out[et] == nil {
				out[et] = map[string]map[string]any{}
			}
			for name, ops := range params {
				cur := out[et][name]
				if cur == nil {
					cur = map[string]any{}
					out[et][name] = cur
				}
				for op, v := range ops {
					if err := mergeOp(cur, op, v); err != nil {
						return nil, fmt.Errorf("%w: %s.%s: %w", ErrPolicy, et, name, err)
					}
				}
				if err := checkOps(cur); err != nil {
					return nil, fmt.Errorf("%w: %s.%s: %w", ErrPolicy, et, name, err)
				}
			}
		}
	}
	return out, nil
}

func mergeOp(cur map[string]any, op string, v any) error {
	old, had := cur[op]
	switch op {
	case "value", "default":
		if had && !reflect.DeepEqual(old, v) {
			return fmt.Errorf("%s %v conflicts with %v set above", op, v, old)
		}
		cur[op] = v
	case "add", "superset_of":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s wants an array", op)
		}
		if had {
			list = union(old.([]any), list)
		}
		cur[op] = list
	case "one_of", "subset_of":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s wants an array", op)
		}
		if had {
			list = intersect(old.([]any), list)
		}
		if op == "one_of" && len(list) == 0 {
			return fmt.Errorf("one_of leaves no value")
		}
		cur[op] = list
	case "essential":
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("essential wants a boolean")
		}
		cur[op] = b || old == true
	default:
		return fmt.Errorf("unknown policy operator %q", op)
	}
	return nil
}

// checkOps refuses operator combinations that no metadata can satisfy.
func checkOps(ops map[string]any) error {
	v, hasValue := ops["value"]
	if hasValue && v != nil {
		if one, ok := ops["one_of"].([]any); ok && !contains(one, v) {
			return fmt.Errorf("value %v is not one_of %v", v, one)
		}
		if sub, ok := ops["subset_of"].([]any); ok {
			if list, ok := v.([]any); ok && len(intersect(list, sub)) != len(list) {
				return fmt.Errorf("value %v is not a subset_of %v", v, sub)
			}
		}
	}
	if sup, ok := ops["superset_of"].([]any); ok {
		if sub, ok := ops["subset_of"].([]any); ok && len(intersect(sup, sub)) != len(sup) {
			return fmt.Errorf("superset_of %v is not within subset_of %v", sup, sub)
		}
	}
	return nil
}

// ApplyPolicy applies the policy of one entity type to a copy of metadata and returns it; a
// parameter that violates the policy is an error naming it.
func ApplyPolicy(policy map[string]map[string]any, metadata map[string]any) (map[string]any, error) {
	// Merging the policy alone checks its operators and their types.
	checked, err := MergePolicies(Policy{"": policy})
	if err != nil {
		return nil, err
	}
	policy = checked[""]
	md := make(map[string]any, len(metadata))
	for k, v := range metadata {
		md[k] = v
	}
	names := make([]string, 0, len(policy))
	for n := range policy {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ops := policy[name]
		for _, op := range policyOperators {
			arg, ok := ops[op]
			if !ok {
				continue
			}
			if err := applyOp(md, name, op, arg); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrPolicy, name, err)
			}
		}
		for op := range ops {
			if !slices.Contains(policyOperators, op) {
				return nil, fmt.Errorf("%w: %s: unknown policy operator %q", ErrPolicy, name, op)
			}
		}
	}
	return md, nil
}

func applyOp(md map[string]any, name, op string, arg any) error {
	v, present := md[name]
	switch op {
	case "value":
		if arg == nil {
			delete(md, name)
		} else {
			md[name] = arg
		}
	case "add":
		if !present {
			md[name] = arg
			return nil
		}
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("add to a value that is not an array")
		}
		md[name] = union(list, arg.([]any))
	case "default":
		if !present {
			md[name] = arg
		}
	case "one_of":
		if present && !contains(arg.([]any), v) {
			return fmt.Errorf("%v is not one of %v", v, arg)
		}
	case "subset_of":
		if !present {
			return nil
		}
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("subset_of on a value that is not an array")
		}
		md[name] = intersect(list, arg.([]any))
	case "superset_of":
		if !present {
			return nil
		}
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("superset_of on a value that is not an array")
		}
		for _, want := range arg.([]any) {
			if !contains(list, want) {
				return fmt.Errorf("%v lacks %v, which the policy requires", v, want)
			}
		}
	case "essential":
		if arg == true && !present {
			return fmt.Errorf("essential parameter missing")
		}
	}
	return nil
}

func contains(list []any, v any) bool {
	return slices.ContainsFunc(list, func(x any) bool { return reflect.DeepEqual(x, v) })
}

func union(a, b []any) []any {
	out := slices.Clone(a)
	for _, v := range b {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func intersect(a, b []any) []any {
	out := []any{}
	for _, v := range a {
		if contains(b, v) && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
