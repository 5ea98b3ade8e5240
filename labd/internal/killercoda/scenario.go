// Package killercoda converts Killercoda (and Katacoda) scenarios into lab
// folders: index.json, the step Markdown, the verify, background and
// foreground scripts and the assets in; lab.yaml, steps/, scripts/ and
// files/ out. It knows nothing of how labs run: it writes files, and
// labd checks them with the lab loader like any other lab.
package killercoda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Scenario is a parsed index.json. Only the fields a lab can use are read;
// others (interface, environment, time, difficulty) are ignored.
type Scenario struct {
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Details     Details `json:"details"`
	Backend     struct {
		ImageID string `json:"imageid"`
	} `json:"backend"`
}

// Details are the scenario's pages and assets.
type Details struct {
	Intro  Page   `json:"intro"`
	Steps  []Page `json:"steps"`
	Finish Page   `json:"finish"`
	Assets Assets `json:"assets"`
}

// Assets are the files copied into each host at start, by host name
// (host01, host02).
type Assets map[string][]Asset

// Page is the intro, a step or the finish. Paths are relative to the
// scenario's folder. Katacoda named the background script courseData and
// the foreground one code.
type Page struct {
	Title      string `json:"title"`
	Text       string `json:"text"`
	Verify     string `json:"verify"`
	Background string `json:"background"`
	Foreground string `json:"foreground"`
	CourseData string `json:"courseData"`
	Code       string `json:"code"`
}

// background and foreground return the page's scripts under either name.
func (p Page) background() string { return first(p.Background, p.CourseData) }
func (p Page) foreground() string { return first(p.Foreground, p.Code) }

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Asset is one entry of details.assets.<host>: a file or a glob under the
// scenario's assets/ folder, the folder it goes to in the host, and an
// optional chmod mode such as +x.
type Asset struct {
	File   string `json:"file"`
	Target string `json:"target"`
	Chmod  string `json:"chmod"`
}

// Structure is a course's structure.json: the scenarios in order.
type Structure struct {
	Items []struct {
		Path  string `json:"path"`
		Title string `json:"title"`
	} `json:"items"`
}

// maxIndex bounds index.json; real ones are a few KiB.
const maxIndex = 1 << 20

// ParseScenario decodes index.json. Errors name the line and the field.
func ParseScenario(data []byte) (*Scenario, error) {
	var s Scenario
	if err := decodeJSON(data, &s); err != nil {
		return nil, err
	}
	for i, st := range s.Details.Steps {
		if strings.TrimSpace(st.Text) == "" && st.Verify == "" && st.background() == "" && st.foreground() == "" {
			return nil, fmt.Errorf("details.steps[%d]: empty step (no text, verify or scripts)", i)
		}
	}
	for host, list := range s.Details.Assets {
		for i, a := range list {
			if strings.TrimSpace(a.File) == "" {
				return nil, fmt.Errorf("details.assets.%s[%d]: missing file", host, i)
			}
			if strings.TrimSpace(a.Target) == "" {
				return nil, fmt.Errorf("details.assets.%s[%d]: missing target", host, i)
			}
		}
	}
	return &s, nil
}

// ParseStructure decodes a course's structure.json.
func ParseStructure(data []byte) (*Structure, error) {
	var s Structure
	if err := decodeJSON(data, &s); err != nil {
		return nil, err
	}
	if len(s.Items) == 0 {
		return nil, errors.New("items: a course lists at least one scenario")
	}
	for i, it := range s.Items {
		if strings.TrimSpace(it.Path) == "" {
			return nil, fmt.Errorf("items[%d]: missing path", i)
		}
	}
	return &s, nil
}

// decodeJSON decodes data into v and words errors with their line.
func decodeJSON(data []byte, v any) error {
	if len(data) > maxIndex {
		return fmt.Errorf("larger than %d KiB", maxIndex>>10)
	}
	err := json.Unmarshal(data, v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: %v", lineOf(data, syn.Offset), syn)
	case errors.As(err, &typ):
		return fmt.Errorf("line %d: %s: want a %s, found a JSON %s", lineOf(data, typ.Offset), typ.Field, kindName(typ.Type.Kind().String()), typ.Value)
	}
	return err
}

func kindName(k string) string {
	switch k {
	case "struct", "map":
		return "object"
	case "slice":
		return "list"
	}
	return k
}

func lineOf(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
