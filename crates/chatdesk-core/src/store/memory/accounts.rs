//! Built-in accounts, API keys and the server's own secrets in memory.

use super::*;

#[async_trait]
impl AccountStore for MemoryStore {
    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>> {
        Ok(self.lock().accounts.iter().find(|a| a.id == id).cloned())
    }

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let mut state = self.lock();
        if state.accounts.iter().any(|a| a.email == new.email) {
            return Err(StoreError::Conflict(format!(
                "an account has the email {}",
                new.email.as_str()
            )));
        }
        let account = Account {
            id: state.accounts.len() as i64 + 1,
            email: new.email,
            password_hash: new.password_hash,
            role: new.role,
            business_id: new.business_id,
            name: new.name,
            created_at: crate::clock::now(),
        };
        state.accounts.push(account.clone());
        Ok(account)
    }

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .iter()
            .find(|a| &a.email == email)
            .cloned())
    }

    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey> {
        let mut state = self.lock();
        if state.api_keys.iter().any(|k| k.hash == key_hash) {
            return Err(StoreError::Conflict("the key exists".into()));
        }
        let key = ApiKey {
            id: state.api_keys.len() as i64 + 1,
            name: name.to_owned(),
            business_id: business_id.clone(),
            created_at: crate::clock::now(),
        };
        state.api_keys.push(StoredKey {
            key: key.clone(),
            hash: key_hash.to_owned(),
            revoked: false,
        });
        Ok(key)
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let state = self.lock();
        Ok(state
            .api_keys
            .iter()
            .find(|k| !k.revoked && k.hash == key_hash)
            .map(|k| k.key.clone()))
    }

    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>> {
        let state = self.lock();
        Ok(state
            .api_keys
            .iter()
            .filter(|k| !k.revoked && business.is_none_or(|b| &k.key.business_id == b))
            .map(|k| k.key.clone())
            .collect())
    }

    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        _at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut state = self.lock();
        let found = state.api_keys.iter_mut().find(|k| {
            !k.revoked && k.key.id == id && business.is_none_or(|b| &k.key.business_id == b)
        });
        Ok(found.map(|k| k.revoked = true).is_some())
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String> {
        let mut state = self.lock();
        Ok(state
            .secrets
            .entry(name.to_owned())
            .or_insert_with(generate)
            .clone())
    }
}
