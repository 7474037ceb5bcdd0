package sub

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The only trace of sts:GetCallerIdentity here is the presign call;
// eks has no GetCallerIdentity, so no eks action comes of it.
func presign(ctx context.Context, pc interface {
	PresignGetCallerIdentity(context.Context, any) (any, error)
}, _ *eks.Client, _ sts.Options) {
	_, _ = pc.PresignGetCallerIdentity(ctx, nil)
}
