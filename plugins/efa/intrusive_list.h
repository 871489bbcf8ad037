// A doubly linked list threaded through its elements: an element leaves the
// list that holds it in O(1) and nothing is allocated per element. Requests
// move between a connection's queues and the context's list this way.
#ifndef MOONCOMM_PLUGINS_EFA_INTRUSIVE_LIST_H_
#define MOONCOMM_PLUGINS_EFA_INTRUSIVE_LIST_H_

#include <cstddef>

namespace mc::efa {

template <typename T>
struct ListHook {
  T* owner = nullptr;
  ListHook* prev = nullptr;
  ListHook* next = nullptr;
  const void* list = nullptr;  // the list holding the element, or null
};

template <typename T, ListHook<T> T::*kHook>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  T* front() const { return head_ != nullptr ? head_->owner : nullptr; }
  bool Contains(const T* item) const { return (item->*kHook).list == this; }

  void PushBack(T* item) {
    ListHook<T>& h = item->*kHook;
    h.owner = item;
    h.prev = tail_;
    h.next = nullptr;
    h.list = this;
    if (tail_ != nullptr) {
      tail_->next = &h;
    } else {
      head_ = &h;
    }
    tail_ = &h;
    ++size_;
  }

  // Does nothing when `item` is not in this list.
  void Remove(T* item) {
    ListHook<T>& h = item->*kHook;
    if (h.list != this) return;
    if (h.prev != nullptr) {
      h.prev->next = h.next;
    } else {
      head_ = h.next;
    }
    if (h.next != nullptr) {
      h.next->prev = h.prev;
    } else {
      tail_ = h.prev;
    }
    h.prev = h.next = nullptr;
    h.list = nullptr;
    --size_;
  }

  // Removes `item` from whichever list of this type holds it.
  static void Unlink(T* item) {
    const void* list = (item->*kHook).list;
    if (list != nullptr) static_cast<IntrusiveList*>(const_cast<void*>(list))->Remove(item);
  }

  T* PopFront() {
    T* item = front();
    if (item != nullptr) Remove(item);
    return item;
  }

  // Visits every element in order. `visit` may remove (or free) the element
  // it is given, but no other element.
  template <typename Visit>
  void ForEach(Visit&& visit) {
    for (ListHook<T>* h = head_; h != nullptr;) {
      ListHook<T>* next = h->next;
      visit(h->owner);
      h = next;
    }
  }

 private:
  ListHook<T>* head_ = nullptr;
  ListHook<T>* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_INTRUSIVE_LIST_H_
