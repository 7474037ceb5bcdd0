//go:build ignore

package good

import "github.com/aws/aws-sdk-go-v2/service/eks"

var _ = eks.DeleteClusterInput{} // a go:build ignore generator is not eksbg
