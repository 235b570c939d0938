/**
 * Where the pipeline's alarms go: one SNS topic per stack, with an optional email subscription.
 */
import { Validations } from 'aws-cdk-lib';
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

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? 'hookline alarms',
      enforceSSL: true,
    });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and states, no webhook data. CloudWatch cannot publish to a topic ' +
        'encrypted with the AWS-managed SNS key, and a customer-managed key would outlive ephemeral stages ' +
        '(7-day deletion window) and cost per stage.',
    });
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }
}
