package pipeline

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfigMinSoak(t *testing.T) {
	c, err := ParseConfig("c5c3.yaml", []byte(strings.Replace(goodConfig, "    context: c5c3-staging\n", "    context: c5c3-staging\n    minSoak: 1h30m\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Environments[0].SoakMinimum(); got != 90*time.Minute {
		t.Errorf("staging minSoak %s", got)
	}
	if got := c.Environments[1].SoakMinimum(); got != 0 {
		t.Errorf("production minSoak %s, want 0", got)
	}
	for _, bad := range []string{"2 hours", "-1h"} {
		_, err := ParseConfig("c5c3.yaml", []byte(strings.Replace(goodConfig, "    context: c5c3-staging\n", "    context: c5c3-staging\n    minSoak: "+bad+"\n", 1)))
		if err == nil || !strings.Contains(err.Error(), `environments[0] (staging).minSoak: "`+bad+`" is not a duration: use e.g. 2h, 90m or 1h30m`) {
			t.Errorf("minSoak %q: %v", bad, err)
		}
	}
}
