package main

import (
	"testing"
	"time"
)

func TestRecordingRetentionFlags(t *testing.T) {
	days := []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"90d", 90 * 24 * time.Hour, true}, {"72h", 72 * time.Hour, true}, {"0", 0, true}, {"-1d", 0, false}, {"soon", 0, false}}
	for _, c := range days {
		got, err := parseDays(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("parseDays(%q) = %v, %v", c.in, got, err)
		}
	}
	sizes := []struct {
		in   string
		want int64
		ok   bool
	}{{"10GiB", 10 << 30, true}, {"500MiB", 500 << 20, true}, {"4096", 4096, true}, {"0", 0, true}, {"1GB", 0, false}, {"-5KiB", 0, false}, {"99999999999TiB", 0, false}}
	for _, c := range sizes {
		got, err := parseBytes(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("parseBytes(%q) = %v, %v", c.in, got, err)
		}
	}
}
