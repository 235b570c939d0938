/**
 * Where the pipeline's alarms go: one SNS topic per stack, encrypted with a key of its own, with
 * an optional email subscription.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** An address that gets every alarm (it must confirm the subscription). @default - no subscription */
  readonly email?: string;
  /** The topic's display name. @default 'hookline alarms' */
  readonly displayName?: string;
}

export class AlarmTopic extends Construct {
  /** The topic the alarms publish to. */
  public readonly topic: sns.Topic;
  /** The customer-managed key the topic is encrypted with. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    // A customer-managed key: CloudWatch cannot publish to a topic encrypted with the
    // AWS-managed SNS key, whose policy cannot be changed (SNS developer guide, "Configure KMS
    // permissions for AWS services"). The topic holds nothing after it is deleted, so the key
    // goes with the stack, after KMS's shortest waiting period.
    this.key = new kms.Key(this, 'Key', {
      description: 'hookline: encrypts the alarm topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? 'hookline alarms',
      enforceSSL: true,
      masterKey: this.key,
    });
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }
}
