/**
 * The stage's body bucket: the claim check of deliveries too large for a queue message
 * (crates/hookline/src/claim_check.rs). An ingest function stores such a body under its
 * provider's prefix (`<provider>/<yyyy>/<mm>/<dd>/<envelope id>`) before it queues the message
 * that points at it; the processor reads the body and deletes it once the handler succeeded. A
 * lifecycle rule removes what is left (bodies of messages that ended in the dead-letter queue)
 * after the resolved manifest's `stage.bodyBucket.expirationDays`. Each function may touch only
 * its own provider's prefix, with only the actions it needs.
 */
import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ResolvedBodyBucket } from './manifest';

/** What an ingest function does with bodies: store them. No read, list or delete. */
export const PUT_BODY_ACTIONS = ['s3:PutObject'];
/** What a processor does with bodies: fetch them, and delete them once handled. */
export const READ_DELETE_BODY_ACTIONS = ['s3:GetObject', 's3:DeleteObject'];

export interface BodyBucketProps {
  /** The bucket as the resolved manifest describes it: its variable and its expiration. */
  readonly bucket: ResolvedBodyBucket;
  /**
   * Whether removing the stack removes the bucket and every body in it (through aws-cdk-lib's
   * auto-delete custom resource: CloudFormation cannot delete a bucket that holds objects);
   * otherwise it is retained with its bodies, which its lifecycle rule still expires.
   * @default false
   */
  readonly ephemeral?: boolean;
}

export class BodyBucket extends Construct {
  public readonly bucket: s3.Bucket;
  /** The variable of both functions that carries its name. */
  public readonly environmentVariable: string;

  constructor(scope: Construct, id: string, props: BodyBucketProps) {
    super(scope, id);
    this.environmentVariable = props.bucket.environmentVariable;
    const ephemeral = props.ephemeral ?? false;
    // No bucket name: CloudFormation makes a unique one (names are global across accounts).
    // No versioning: a deleted body must be gone, not kept as a noncurrent version.
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireBodies',
          expiration: Duration.days(props.bucket.expirationDays),
          // Ingest stores a body with one PutObject; a multipart upload is never hookline's.
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: ephemeral,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs would need a second bucket for short-lived bodies that only the ' +
        "stack's own functions touch, each role on its provider's prefix alone; ingest logs each " +
        "stored body's key with its delivery id (`webhook queued`, `body_key`), the queue message " +
        'names it, and CloudTrail data events can be turned on if wanted.',
    });
  }

  /** Lets `grantee` (an ingest function) store bodies under `prefix`, and nothing else. */
  public grantPutBodies(grantee: iam.IGrantable, prefix: string): iam.Grant {
    return this.grantOnPrefix(grantee, PUT_BODY_ACTIONS, prefix);
  }

  /** Lets `grantee` (a processor) read and delete the bodies under `prefix`, and nothing else. */
  public grantReadDeleteBodies(grantee: iam.IGrantable, prefix: string): iam.Grant {
    return this.grantOnPrefix(grantee, READ_DELETE_BODY_ACTIONS, prefix);
  }

  private grantOnPrefix(grantee: iam.IGrantable, actions: string[], prefix: string): iam.Grant {
    // An empty prefix would grant the whole bucket; one without its slash, other providers'
    // keys too (`shop` would match `shopify/...`).
    if (!/^[^*?]+\/$/.test(prefix)) {
      throw new Error(`body key prefix \`${prefix}\` must be a provider's folder, such as \`stripe/\``);
    }
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.bucket.arnForObjects(`${prefix}*`)] });
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      // cdk-nag names the resource by the bucket's logical id: acknowledge exactly this grant.
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        reason:
          `Each delivery's body gets its own key under the provider's prefix (${prefix}<yyyy>/<mm>/<dd>/<envelope id>): ` +
          `the wildcard after the prefix confines the role to its own provider's bodies, with only ${actions.join(', ')}.`,
      });
    }
    return grant;
  }
}
