package gatewayapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// What an import does with a live object, in every renderer package: decode
// it into the typed API struct its renderer builds (Decode, DecodeProto),
// rebuild the intent from the struct, render that intent again and compare
// the two (Covered). The first field where the live object and the
// re-rendered one differ is the error: importing would otherwise record an
// intent that does not describe what the cluster does.

// Describe names obj in messages: "Kind namespace/name".
func Describe(obj *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", obj.GetKind(), obj.GetNamespace(), obj.GetName())
}

// NotLossless is the error for a live field the resource cannot represent.
func NotLossless(obj *unstructured.Unstructured, field, format string, args ...any) error {
	return fmt.Errorf("%s cannot be imported losslessly: %s %s", Describe(obj), field, fmt.Sprintf(format, args...))
}

// notCovered says that field is set live (to value, when known) and
// resource has no attribute for it.
func notCovered(obj *unstructured.Unstructured, resource, field string, value any) error {
	set := "is set"
	if value != nil {
		set = "is set to " + short(Show(value))
	}
	return NotLossless(obj, field, "%s, and %s has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform", set, resource)
}

// short cuts a shown value to what a message line can hold.
func short(s string) string {
	const most = 80
	if len(s) <= most {
		return s
	}
	return s[:most] + "…"
}

// Decode decodes the live obj into into, a pointer to the typed API struct
// the renderer builds. A field the struct does not define is an error naming
// the field for resource; status, which the renderers never write, is left
// out. Specs with a protobuf JSON form decode leniently here (their
// UnmarshalJSON drops unknown fields): pass them to DecodeProto as well.
func Decode(obj *unstructured.Unstructured, resource string, into any) error {
	content := obj.UnstructuredContent()
	if _, ok := content["status"]; ok {
		content = maps.Clone(content)
		delete(content, "status")
	}
	err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(content, into, true)
	if err == nil {
		return nil
	}
	// The converter joins every unknown field as `unknown field "path"`;
	// name the first, as every other error does.
	var first string
	for _, line := range strings.Split(err.Error(), "\n") {
		if _, rest, ok := strings.Cut(line, `unknown field "`); ok {
			first, _, _ = strings.Cut(rest, `"`)
			break
		}
	}
	if first != "" {
		return notCovered(obj, resource, first, nil)
	}
	return fmt.Errorf("%s: %w", Describe(obj), err)
}

// DecodeProto decodes the live object's field (a protobuf-JSON spec) into
// msg strictly: a key msg's message type does not define, at any depth, is
// the error naming it, and so is a value of the wrong type or an enum value
// the type does not know.
func DecodeProto(obj *unstructured.Unstructured, resource, field string, msg proto.Message) error {
	v, _, err := unstructured.NestedFieldNoCopy(obj.Object, strings.Split(field, ".")...)
	if err != nil || v == nil {
		return err
	}
	if err := protoFieldsKnown(obj, resource, msg.ProtoReflect().Descriptor(), v, field); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", Describe(obj), field, err)
	}
	if err := protojson.Unmarshal(data, msg); err != nil {
		return NotLossless(obj, field, "does not decode as %s: %v", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// protoFieldsKnown fails on the first key of v (in sorted order, at any
// depth) that md does not define, and on an enum value spelled by a name
// its enum does not define.
func protoFieldsKnown(obj *unstructured.Unstructured, resource string, md protoreflect.MessageDescriptor, v any, path string) error {
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // well-known types have their own JSON forms
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil // the wrong type: protojson names it
	}
	for _, k := range SortedKeys(m) {
		at := path + "." + k
		fd := md.Fields().ByJSONName(k)
		if fd == nil {
			fd = md.Fields().ByTextName(k)
		}
		if fd == nil {
			return notCovered(obj, resource, at, m[k])
		}
		var check func(at string, v any) error
		switch kind := fd.Kind(); {
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			inner := fd.MapValue().Message()
			values, _ := m[k].(map[string]any)
			for _, key := range SortedKeys(values) {
				if err := protoFieldsKnown(obj, resource, inner, values[key], at+"."+key); err != nil {
					return err
				}
			}
			continue
		case fd.IsMap():
			continue
		case kind == protoreflect.MessageKind:
			check = func(at string, v any) error { return protoFieldsKnown(obj, resource, fd.Message(), v, at) }
		case kind == protoreflect.EnumKind:
			check = func(at string, v any) error { return enumKnown(obj, fd.Enum(), v, at) }
		default:
			continue
		}
		if !fd.IsList() {
			if err := check(at, m[k]); err != nil {
				return err
			}
			continue
		}
		items, _ := m[k].([]any)
		for i, item := range items {
			if err := check(at+"["+strconv.Itoa(i)+"]", item); err != nil {
				return err
			}
		}
	}
	return nil
}

// enumKnown fails on a name ed does not define.
func enumKnown(obj *unstructured.Unstructured, ed protoreflect.EnumDescriptor, v any, at string) error {
	name, ok := v.(string)
	if !ok || ed.Values().ByName(protoreflect.Name(name)) != nil {
		return nil
	}
	var known []string
	for i := range ed.Values().Len() {
		known = append(known, string(ed.Values().Get(i).Name()))
	}
	return NotLossless(obj, at, "is %q, which this provider's %s does not define (it knows %s)", name, ed.Name(), strings.Join(known, ", "))
}

// Covered proves that the intent an import rebuilt from live loses nothing:
// typed is live decoded (a pointer to the API struct, with any API-server
// default the renderer leaves out taken back out), rendered is what the
// rebuilt intent renders for the same object. Both are compared at field
// (e.g. "spec") in canonical form, encoded through the same struct, so that
// spellings the type reads alike (a protobuf enum's zero value and its
// absence, say) compare equal. The first difference, in sorted key order,
// is the error.
func Covered(live *unstructured.Unstructured, typed any, rendered *unstructured.Unstructured, resource, field string) error {
	have, err := ToUnstructured(typed)
	if err != nil {
		return fmt.Errorf("%s: %w", Describe(live), err)
	}
	again := reflect.New(reflect.TypeOf(typed).Elem()).Interface()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(rendered.Object, again); err != nil {
		return fmt.Errorf("%s rendered again: %w", Describe(rendered), err)
	}
	want, err := ToUnstructured(again)
	if err != nil {
		return fmt.Errorf("%s rendered again: %w", Describe(rendered), err)
	}
	path := strings.Split(field, ".")
	h, _, _ := unstructured.NestedFieldNoCopy(have.Object, path...)
	w, _, _ := unstructured.NestedFieldNoCopy(want.Object, path...)
	return firstDifference(live, resource, field, true, h, w)
}

// CoveredValue is Covered for values already in canonical form.
func CoveredValue(live *unstructured.Unstructured, resource, field string, have, want any) error {
	return firstDifference(live, resource, field, true, have, want)
}

func firstDifference(live *unstructured.Unstructured, resource, at string, root bool, have, want any) error {
	hm, hok := have.(map[string]any)
	wm, wok := want.(map[string]any)
	switch {
	case empty(have) && empty(want):
		return nil
	case hok && wok, root && (hok || wok):
		// Descend into what both have (or the field compared, even if one
		// side lacks it), so that the message names the field that differs.
		keys := SortedKeys(hm)
		for _, k := range SortedKeys(wm) {
			if _, ok := hm[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := firstDifference(live, resource, at+"."+k, false, hm[k], wm[k]); err != nil {
				return err
			}
		}
		return nil
	case empty(want):
		return notCovered(live, resource, at, have)
	case empty(have):
		return NotLossless(live, at, "is not set, and %s would set it to %s: importing would change the object", resource, Show(want))
	}
	hl, hok := have.([]any)
	wl, wok := want.([]any)
	if hok && wok {
		if len(hl) != len(wl) {
			return NotLossless(live, at, "has %d items, and %s would render %d: %s", len(hl), resource, len(wl), Show(want))
		}
		for i := range hl {
			if err := firstDifference(live, resource, at+"["+strconv.Itoa(i)+"]", false, hl[i], wl[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if reflect.DeepEqual(have, want) {
		return nil
	}
	if h, ok := number(have); ok {
		if w, ok := number(want); ok && h == w {
			return nil // JSON reads 100.0 as the integer 100
		}
	}
	return NotLossless(live, at, "is %s, and %s would render %s", Show(have), resource, Show(want))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		for _, e := range x {
			if !empty(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

// Show spells a value in a message: a string quoted, anything else as JSON.
func Show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// SortedKeys are the keys of m in order.
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
