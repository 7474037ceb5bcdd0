// Synthetic eksbg code for the iamactions tests: it is parsed, never built.
package s3calls

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func calls(ctx context.Context, c *s3.Client) {
	_, _ = c.PutObject(ctx, &s3.PutObjectInput{})
	_, _ = c.GetObject(ctx, &s3.GetObjectInput{})
	_, _ = c.HeadObject(ctx, &s3.HeadObjectInput{})
	_ = s3.NewListObjectsV2Paginator(c, nil)
}
