// Tributary's scaled-out shape on Azure, in one resource group (see deploy/azure/README.md):
//   storage account (ADLS Gen2): container `lake`, task queue `tasks` and its poison queue
//   PostgreSQL flexible server + database `trib` (the catalog)
//   Key Vault: the storage connection string and the PostgreSQL password; a user-assigned managed
//     identity reads them (Key Vault Secrets User) and pulls the image (AcrPull)
//   container registry for the trib image (deploy/azure/Dockerfile)
//   Log Analytics + Application Insights + Container Apps environment
//   Container Apps job `backfill`: event-driven (KEDA azure-queue on `tasks`), runs `trib worker --drain`
//   Container Apps job `init-workspace`: manual, runs `trib init` once (queues, container, catalog tables)
//   Container App `bot`: always on, `trib serve --schedule` (off by default: see deployBot)
//   Function App (Linux, Flex Consumption, custom handler): DailyUpdate timer and RunTask queue
//     trigger served by `trib serve --functions` (package: deploy/azure/package-functions.sh)
//
// Secrets reach trib only as environment variables filled from Key Vault references
// (AZURE_STORAGE_CONNECTION_STRING, PGPASSWORD), never through trib.toml. trib.toml itself is
// deploy/azure/functions/trib.toml with the server's host in place of its placeholder url: mounted
// into the containers at /workspace/trib.toml, and output as `tribToml` for the Functions package.
//
// Deploy twice: first without imageTag (everything but the container workloads, since the
// registry has no image yet), then, after `az acr build`, with imageTag set.

targetScope = 'resourceGroup'

@description('Region of every resource.')
param location string = resourceGroup().location

@description('Prefix of resource names: lowercase letters and digits.')
@minLength(3)
@maxLength(11)
param namePrefix string = 'trib'

@description('Tag of trib in the registry this template creates (az acr build -t trib:<tag>). Empty: the container workloads (backfill, init-workspace, bot) are not deployed yet.')
param imageTag string = ''

@description('PostgreSQL administrator login; trib connects as this user.')
param pgAdminLogin string = 'trib'

@secure()
@description('PostgreSQL administrator password. Stored in Key Vault and given to trib as PGPASSWORD; never in trib.toml.')
param pgAdminPassword string

@description('The catalog database.')
param pgDatabaseName string = 'trib'

@description('PostgreSQL major version.')
param pgVersion string = '16'

@description('PostgreSQL compute size and tier.')
param pgSkuName string = 'Standard_B1ms'
param pgSkuTier string = 'Burstable'

@description('PostgreSQL storage in GiB.')
param pgStorageSizeGB int = 32

@description('The task queue. Must equal [queue] name in functions/trib.toml and queueName in functions/RunTask/function.json.')
param queueName string = 'tasks'

@description('The lake container. Must equal [lake] container in functions/trib.toml.')
param lakeContainerName string = 'lake'

@description('Messages per running backfill execution before KEDA starts another (azure-queue queueLength).')
param backfillQueueLength int = 20

@description('At most this many backfill executions at once.')
@minValue(1)
param backfillMaxExecutions int = 10

@description('Deploy the always-on bot running `trib serve --schedule`: the API and dashboard, the daily update after every close and the end-of-day trading cycle. Off by default: an always-on container costs, and the Functions timer already runs the update.')
param deployBot bool = false

@description('Largest number of Function App instances (Flex Consumption: 40 to 1000).')
param functionsMaxInstances int = 40

var cleanPrefix = toLower(replace(namePrefix, '-', ''))
var suffix = uniqueString(resourceGroup().id)
var storageAccountName = take('${cleanPrefix}${suffix}', 24)
var keyVaultName = '${cleanPrefix}-kv-${take(suffix, 8)}'
var registryName = '${cleanPrefix}acr${suffix}'
var postgresName = '${cleanPrefix}-pg-${suffix}'
var functionAppName = '${cleanPrefix}-func-${suffix}'
var backfillJobName = 'backfill'
var initJobName = 'init-workspace'
var botName = 'bot'
var deploymentContainerName = 'function-releases'
var deployWorkloads = !empty(imageTag)

// Built-in role definitions.
var keyVaultSecretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6'
var acrPullRole = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var storageBlobDataContributorRole = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

// trib.toml: the shipped file with this deployment's server in place of the placeholder url
// (tests/cli/deploy_test.sh checks that the placeholder below is the file's url, verbatim).
var tribTomlTemplate = loadTextContent('functions/trib.toml')
var pgUrlPlaceholder = 'postgresql://trib@pg-host.invalid:5432/trib?sslmode=require'
var pgUrl = 'postgresql://${pgAdminLogin}@${postgres.properties.fullyQualifiedDomainName}:5432/${pgDatabaseName}?sslmode=require'
var tribToml = replace(tribTomlTemplate, pgUrlPlaceholder, pgUrl)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${cleanPrefix}-id'
  location: location
}

// ---- Storage: the lake (ADLS Gen2 through the Blob API), the task queue, the Functions host ----

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    isHnsEnabled: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    // trib signs requests with the account key (SharedKey) from the connection string.
    allowSharedKeyAccess: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource lakeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: lakeContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource taskQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: queueName
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${queueName}-poison'
}

// ---- PostgreSQL: the catalog ----

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: postgresName
  location: location
  sku: {
    name: pgSkuName
    tier: pgSkuTier
  }
  properties: {
    version: pgVersion
    administratorLogin: pgAdminLogin
    administratorLoginPassword: pgAdminPassword
    authConfig: {
      passwordAuth: 'Enabled'
      activeDirectoryAuth: 'Disabled'
    }
    storage: {
      storageSizeGB: pgStorageSizeGB
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource pgDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: pgDatabaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// 0.0.0.0 - 0.0.0.0: connections from Azure services (Container Apps, Functions). A private
// network (VNet integration + private endpoint) is the next step for production.
resource pgAllowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// ---- Key Vault: the two secrets, read by the identity ----

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource storageConnectionSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'storage-connection-string'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
}

resource pgPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'pg-password'
  properties: {
    value: pgAdminPassword
  }
}

resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, keyVaultSecretsUserRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRole)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Registry: the trib image ----

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource imagePuller 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, identity.id, acrPullRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRole)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The Flex Consumption plan reads the Functions package from a blob container with the identity.
resource packageReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageBlobDataContributorRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRole)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Logs ----

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${cleanPrefix}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${cleanPrefix}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

// ---- Container Apps: the backfill job, the init job, the bot ----

resource appsEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${cleanPrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

var image = '${registry.properties.loginServer}/trib:${imageTag}'

// Container Apps secrets: two Key Vault references read with the identity, and trib.toml (not a
// secret, but a secret volume is how a Container App mounts a file without a file share).
var containerSecrets = [
  { name: 'storage-connection', keyVaultUrl: storageConnectionSecret.properties.secretUri, identity: identity.id }
  { name: 'pg-password', keyVaultUrl: pgPasswordSecret.properties.secretUri, identity: identity.id }
  { name: 'trib-toml', value: tribToml }
]

var containerEnv = [
  { name: 'AZURE_STORAGE_CONNECTION_STRING', secretRef: 'storage-connection' }
  { name: 'PGPASSWORD', secretRef: 'pg-password' }
  { name: 'TRIB_WORKSPACE', value: '/workspace' }
]

var workspaceVolume = {
  name: 'workspace'
  storageType: 'Secret'
  secrets: [
    { secretRef: 'trib-toml', path: 'trib.toml' }
  ]
}

var workspaceMount = { volumeName: 'workspace', mountPath: '/workspace' }

var registries = [
  { server: registry.properties.loginServer, identity: identity.id }
]

// One execution drains the queue and exits; KEDA starts one more per `backfillQueueLength`
// messages (visible or leased) while the queue holds any.
resource backfillJob 'Microsoft.App/jobs@2024-03-01' = if (deployWorkloads) {
  name: backfillJobName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appsEnvironment.id
    configuration: {
      triggerType: 'Event'
      replicaTimeout: 3600
      replicaRetryLimit: 1
      secrets: containerSecrets
      registries: registries
      eventTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
        scale: {
          minExecutions: 0
          maxExecutions: backfillMaxExecutions
          pollingInterval: 30
          rules: [
            {
              name: 'task-queue'
              type: 'azure-queue'
              metadata: {
                accountName: storage.name
                queueName: queueName
                queueLength: string(backfillQueueLength)
              }
              auth: [
                { secretRef: 'storage-connection', triggerParameter: 'connection' }
              ]
            }
          ]
        }
      }
    }
    template: {
      containers: [
        {
          name: 'trib'
          image: image
          command: [ 'trib', 'worker', '--drain' ]
          env: containerEnv
          resources: {
            cpu: json('1.0')
            memory: '2Gi'
          }
          volumeMounts: [ workspaceMount ]
        }
      ]
      volumes: [ workspaceVolume ]
    }
  }
  dependsOn: [
    secretsReader
    imagePuller
  ]
}

// Run once after the first deployment with the image: az containerapp job start -n init-workspace -g <rg>
resource initJob 'Microsoft.App/jobs@2024-03-01' = if (deployWorkloads) {
  name: initJobName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appsEnvironment.id
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 600
      replicaRetryLimit: 0
      secrets: containerSecrets
      registries: registries
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
    }
    template: {
      containers: [
        {
          name: 'trib'
          image: image
          command: [ 'trib', 'init' ]
          env: containerEnv
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          volumeMounts: [ workspaceMount ]
        }
      ]
      volumes: [ workspaceVolume ]
    }
  }
  dependsOn: [
    secretsReader
    imagePuller
  ]
}

// The always-on bot: the API and dashboard of `trib serve`, the daily update after every close
// and the end-of-day trading cycle (--schedule). Off by default (an always-on container costs);
// it binds 0.0.0.0 inside the environment, with no ingress unless one is added.
resource bot 'Microsoft.App/containerApps@2024-03-01' = if (deployWorkloads && deployBot) {
  name: botName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: containerSecrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'trib'
          image: image
          command: [ 'trib', 'serve', '--schedule', '--host', '0.0.0.0' ]
          env: containerEnv
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          volumeMounts: [ workspaceMount ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
      volumes: [ workspaceVolume ]
    }
  }
  dependsOn: [
    secretsReader
    imagePuller
  ]
}

// ---- Function App: DailyUpdate (timer) and RunTask (queue trigger) through `trib serve --functions` ----

resource functionsPlan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${cleanPrefix}-plan'
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

var storageConnectionReference = '@Microsoft.KeyVault(SecretUri=${storageConnectionSecret.properties.secretUri})'
var pgPasswordReference = '@Microsoft.KeyVault(SecretUri=${pgPasswordSecret.properties.secretUri})'

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: functionsPlan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: functionsMaxInstances
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage', value: storageConnectionReference }
        { name: 'AZURE_STORAGE_CONNECTION_STRING', value: storageConnectionReference }
        { name: 'PGPASSWORD', value: pgPasswordReference }
        { name: 'TRIB_WORKSPACE', value: '/home/site/wwwroot' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
      ]
    }
  }
  dependsOn: [
    secretsReader
    packageReader
    deploymentContainer
    taskQueue
    poisonQueue
  ]
}

output storageAccountName string = storage.name
output lakeContainer string = lakeContainer.name
output taskQueue string = taskQueue.name
output poisonQueue string = poisonQueue.name
output keyVaultName string = vault.name
output registryLoginServer string = registry.properties.loginServer
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output postgresDatabase string = pgDatabase.name
output functionAppName string = functionApp.name
output identityClientId string = identity.properties.clientId
output backfillJob string = deployWorkloads ? backfillJobName : ''
output initJob string = deployWorkloads ? initJobName : ''
output botApp string = deployWorkloads && deployBot ? botName : ''
// The rendered workspace file (no secret in it): the Functions package's trib.toml.
output tribToml string = tribToml
