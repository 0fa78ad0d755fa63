/**
 * node-rdkafka is CommonJS whose exports Node's ESM loader cannot name: import it once here, as
 * the default export, and re-export what crowdpulse uses.
 */
import rdkafka from 'node-rdkafka';

export const { KafkaConsumer, Producer, AdminClient, CODES, features } = rdkafka;
export type {
  KafkaConsumer as RdConsumer,
  Producer as RdProducer,
  IAdminClient,
  Message,
  MessageHeader,
  TopicPartition,
  TopicPartitionOffset,
  LibrdKafkaError,
  DeliveryReport,
  ConsumerGlobalConfig,
  ProducerGlobalConfig,
  GlobalConfig,
  ConsumerTopicConfig,
  ProducerTopicConfig,
} from 'node-rdkafka';

export const ERR = CODES.ERRORS;
