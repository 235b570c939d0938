/**
 * The stage's idempotency table: one DynamoDB item per delivery whose handler ran (or runs), as
 * the runtime library's store writes them (crates/hookline/src/idempotency), with the name, key
 * and TTL attribute of the resolved manifest's `stage.idempotencyTable`. Only processors read and write it, each with the four item actions the
 * store uses.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ResolvedTable } from './manifest';

/** The item actions of the store: claim (conditional put), read, complete, abandon. */
export const IDEMPOTENCY_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

export interface IdempotencyTableProps {
  /** The table as the resolved manifest describes it: name, key, TTL attribute, variable. */
  readonly table: ResolvedTable;
  /**
   * Whether removing the stack removes the table; otherwise it is retained with its records.
   * @default false
   */
  readonly ephemeral?: boolean;
}

export class IdempotencyTable extends Construct {
  public readonly table: dynamodb.Table;
  /** The processor variable that carries its name. */
  public readonly environmentVariable: string;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps) {
    super(scope, id);
    this.environmentVariable = props.table.environmentVariable;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.table.tableName,
      partitionKey: { name: props.table.partitionKey, type: dynamodb.AttributeType.STRING },
      // Records come in bursts with the webhooks: pay per request, nothing to size.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // DynamoDB deletes expired records (eventually: the store checks the expiry itself).
      timeToLiveAttribute: props.table.timeToLiveAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
  }

  /** Lets `grantee` (a processor) claim, read, complete and abandon records, nothing else. */
  public grantRecords(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, ...IDEMPOTENCY_ACTIONS);
  }
}
