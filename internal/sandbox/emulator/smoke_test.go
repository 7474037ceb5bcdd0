package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

func TestSTSGetCallerIdentity(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	out, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != "111122223333" || *out.Arn != "arn:aws:iam::111122223333:user/sandbox" {
		t.Fatalf("got account %s arn %s", *out.Account, *out.Arn)
	}
	for _, cli := range [][]string{{"python3", "-m", "awscli"}} {
		stdout, stderr, err := env.RunCLI(t, cli[0], append(cli[1:], "sts", "get-caller-identity")...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", cli, err, stderr)
		}
		var got struct{ Account, Arn, UserId string }
		if err := json.Unmarshal(stdout, &got); err != nil {
			t.Fatal(err)
		}
		if got.Account != "111122223333" || got.UserId == "" {
			t.Fatalf("%v: %s", cli, stdout)
		}
	}
}

// errorCode is the AWS error code of err, "" when it has none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
